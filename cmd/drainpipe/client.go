package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/drainpipe/drainpipe/api"
)

// clientFlags are the flags every client command shares.
type clientFlags struct {
	server, token, data *string
	json                *bool
}

func addClientFlags(f *flags) clientFlags {
	return clientFlags{
		server: f.string("server", "http://127.0.0.1:8080", "drainpipe server URL"),
		token:  f.string("token", "", "admin token (default: read from <data>/admin-token)"),
		data:   f.string("data", "./drainpipe-data", "data directory whose admin-token is used when --token is not given"),
		json:   f.Bool("json", false, "print JSON"),
	}
}

func (c clientFlags) client() (*api.Client, error) {
	token := *c.token
	if token == "" {
		raw, err := os.ReadFile(filepath.Join(*c.data, "admin-token"))
		if err != nil {
			return nil, fmt.Errorf("no admin token: pass --token or set DRAINPIPE_TOKEN, or run where %s is readable", filepath.Join(*c.data, "admin-token"))
		}
		token = strings.TrimSpace(string(raw))
	}
	return api.NewClient(*c.server, token), nil
}
