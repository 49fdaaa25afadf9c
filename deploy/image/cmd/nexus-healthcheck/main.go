// Command nexus-healthcheck is the image's HEALTHCHECK: the image has no
// shell and no curl, so this static probe asks the collector's
// health_check extension and exits 0 when it answers 200, 1 otherwise.
// $NEXUS_HEALTHCHECK_URL overrides the shipped configs' endpoint.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

const defaultURL = "http://127.0.0.1:13133/"

func main() {
	url := os.Getenv("NEXUS_HEALTHCHECK_URL")
	if url == "" {
		url = defaultURL
	}
	if err := probe(url, 4*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "unhealthy:", err)
		os.Exit(1)
	}
}

func probe(url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("health URL %q: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("asking %s: %w", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}
