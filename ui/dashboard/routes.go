package dashboard

import (
	"net/http"
	"slices"

	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// Route is one entry of the dashboard's route table: what a request must
// be, and who may make it. The handler is built from this table only, so
// a test that iterates over Routes covers every page, API and action.
type Route struct {
	// Method is GET or POST (a GET route also answers HEAD).
	Method string
	// Pattern is a net/http ServeMux path pattern with {name} wildcards
	// ({id} is a kiosk or incident id, {name} a user name, {file} an
	// asset). "/" means exactly "/", not every path.
	Pattern string
	// Roles may use the route. Empty: public (login page, assets).
	Roles []string
	// Scoped routes show or act on office data: a uptd user sees only its
	// offices there, and an {id} or ?office= of another office is 404.
	Scoped bool
}

// Public reports whether the route needs no login.
func (r Route) Public() bool { return len(r.Roles) == 0 }

// Allows reports whether role may use the route.
func (r Route) Allows(role string) bool { return slices.Contains(r.Roles, role) }

// Role sets of the table.
var (
	everyone  = []string{hubapi.RoleUPTD, hubapi.RoleSistim, hubapi.RoleAdmin}
	operators = []string{hubapi.RoleUPTD, hubapi.RoleSistim} // act on kiosks and incidents
	sistim    = []string{hubapi.RoleSistim}
	sistimAdm = []string{hubapi.RoleSistim, hubapi.RoleAdmin}
	admin     = []string{hubapi.RoleAdmin}
)

// handlerFunc serves an authorised request; v is nil on public routes.
type handlerFunc func(d *Dashboard, w http.ResponseWriter, r *http.Request, v *viewer)

// routes is the route table with its handlers. Order does not matter
// (ServeMux picks the most specific pattern).
var routes = []struct {
	Route
	h handlerFunc
}{
	{Route{"GET", "/login", nil, false}, (*Dashboard).loginPage},
	{Route{"POST", "/login", nil, false}, (*Dashboard).login},
	{Route{"GET", "/assets/{file}", nil, false}, (*Dashboard).asset},
	{Route{"POST", "/logout", everyone, false}, (*Dashboard).logout},

	{Route{"GET", "/", everyone, true}, (*Dashboard).fleetPage},
	{Route{"GET", "/kiosk/{id}", everyone, true}, (*Dashboard).kioskPage},
	{Route{"POST", "/kiosk/{id}/maintenance", operators, true}, (*Dashboard).maintenance},
	{Route{"POST", "/kiosk/{id}/restart", sistim, true}, (*Dashboard).restart},

	{Route{"GET", "/incidents", everyone, true}, (*Dashboard).incidentsPage},
	{Route{"GET", "/incidents.csv", everyone, true}, (*Dashboard).incidentsCSV},
	{Route{"GET", "/incidents/{id}", everyone, true}, (*Dashboard).incidentPage},
	{Route{"POST", "/incidents/{id}/ack", operators, true}, (*Dashboard).acknowledge},
	{Route{"POST", "/incidents/{id}/resolve", operators, true}, (*Dashboard).resolve},

	{Route{"GET", "/audit", everyone, true}, (*Dashboard).auditPage},
	{Route{"GET", "/alerts", sistimAdm, false}, (*Dashboard).alertsPage},

	{Route{"GET", "/credentials", sistim, false}, (*Dashboard).credentialsPage},
	{Route{"GET", "/credentials/revoke", sistim, false}, (*Dashboard).revokeConfirm},
	{Route{"POST", "/credentials/revoke", sistim, false}, (*Dashboard).revoke},

	{Route{"GET", "/users", admin, false}, (*Dashboard).usersPage},
	{Route{"POST", "/users", admin, false}, (*Dashboard).addUser},
	{Route{"POST", "/users/{name}/disable", admin, false}, (*Dashboard).disableUser},
	{Route{"POST", "/users/{name}/enable", admin, false}, (*Dashboard).enableUser},

	{Route{"GET", "/events", everyone, true}, (*Dashboard).events},
}

// Routes returns the route table: every path the handler serves, with
// the roles allowed on it. The caller may modify the result.
func Routes() []Route {
	out := make([]Route, len(routes))
	for i, r := range routes {
		out[i] = r.Route
		out[i].Roles = slices.Clone(r.Roles)
	}
	return out
}

// muxPattern is the ServeMux pattern of a route.
func (r Route) muxPattern() string {
	p := r.Pattern
	if p == "/" {
		p = "/{$}"
	}
	return r.Method + " " + p
}
