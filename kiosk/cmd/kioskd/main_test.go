package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestUsageAndConfigErrors(t *testing.T) {
	base := []string{"--id", "padang-01", "--office", "padang", "--data", "", "--nats", "nats://127.0.0.1:1", "--http", "127.0.0.1:0", "--ui", "off"}
	for _, tt := range []struct {
		name string
		args []string
		msg  string
	}{
		{"missing required", []string{}, "--id"},
		{"unknown flag", []string{"--bogus"}, "bogus"},
		{"bad id", append(append([]string{}, base...), "--id", "Padang_01"), "invalid"},
		{"public http", append(append([]string{}, base...), "--http", "0.0.0.0:8321"), "loopback"},
		{"bad printer", append(append([]string{}, base...), "--printer", "serial:"), "--printer"},
		{"bad columns", append(append([]string{}, base...), "--printer-columns", "40"), "printer-columns"},
		{"bad tz", append(append([]string{}, base...), "--tz", "Mars/Base"), "Mars"},
		{"bad log level", append(append([]string{}, base...), "--log-level", "loud"), "log-level"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{}, tt.args...)
			for i, a := range args {
				if a == "--data" && i+1 < len(args) && args[i+1] == "" {
					args[i+1] = t.TempDir()
				}
			}
			var out, errb bytes.Buffer
			err := run(t.Context(), args, &out, &errb)
			if got := exitCode(err); got != 2 {
				t.Errorf("exit %d, want 2 (err %v)", got, err)
			}
			if !strings.Contains(errb.String(), tt.msg) {
				t.Errorf("stderr %q does not mention %q", errb.String(), tt.msg)
			}
		})
	}
}

func TestPrintConfig(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"--id", "padang-01", "--heartbeat", "15s", "--print-config"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id = "padang-01"`, `heartbeat = "15s"`, `http = "127.0.0.1:8321"`, `require-rangka5 = true`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--print-config output lacks %s:\n%s", want, out.String())
		}
	}
}
