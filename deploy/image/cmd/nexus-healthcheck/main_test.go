package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestProbe(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
	}))
	defer srv.Close()
	if err := probe(srv.URL, time.Second); err != nil {
		t.Fatalf("healthy: %v", err)
	}
	status = http.StatusServiceUnavailable
	if err := probe(srv.URL, time.Second); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("503: %v", err)
	}

	// Nothing listening, and a server that never answers: both fail, the
	// second within the timeout rather than hanging the health check.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := probe("http://"+addr+"/", time.Second); err == nil {
		t.Fatal("a server that never answers passed")
	}
	l.Close()
	if err := probe("http://"+addr+"/", time.Second); err == nil {
		t.Fatal("nothing listening passed")
	}
	if err := probe("::not a url", time.Second); err == nil {
		t.Fatal("a bad URL passed")
	}
}
