package plate

import (
	"errors"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
)

// ContractError translates an error of Parse into the invalid_plate error
// object of the NATS and HTTP contracts (DESIGN 4.6, 4.8), without a
// message: the screen words it in the taxpayer's language. The agent and
// the gateway both use it, so a rejection reads the same everywhere.
func ContractError(err error) *kiosk.Error {
	var pe *Error
	if !errors.As(err, &pe) {
		return &kiosk.Error{Code: kiosk.CodeInvalidPlate, Reason: string(BadFormat)}
	}
	return &kiosk.Error{Code: kiosk.CodeInvalidPlate, Reason: string(pe.Reason), Suggestion: pe.Suggestion, Province: pe.Province}
}
