// Command nexus-image builds the Nexus container image without a daemon
// (`make image`): an OCI layout directory and a tarball for `docker load`.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nexus-otel/nexus/deploy/image"
)

func main() {
	repo := flag.String("repo", "../..", "repository root (bin/, .engine/, configs/)")
	tarPath := flag.String("tar", "", "tarball to write (default REPO/bin/nexus-image.tar)")
	layoutDir := flag.String("layout", "", "OCI layout directory to write (default REPO/bin/nexus-image-oci)")
	tag := flag.String("tag", "", "image name:tag (default otelcol-nexus:VERSION of builder-config.yaml)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *repo, *tarPath, *layoutDir, *tag); err != nil {
		fmt.Fprintln(os.Stderr, "nexus-image:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, repo, tarPath, layoutDir, tag string) error {
	spec := image.DefaultSpec(repo)
	spec.Version = distVersion(filepath.Join(repo, "builder-config.yaml"))
	if tag == "" {
		tag = "otelcol-nexus:" + spec.Version
	}
	if tarPath == "" {
		tarPath = filepath.Join(repo, "bin", "nexus-image.tar")
	}
	if layoutDir == "" {
		layoutDir = filepath.Join(repo, "bin", "nexus-image-oci")
	}
	work, err := os.MkdirTemp(filepath.Join(repo, "bin"), ".nexus-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	start := time.Now()
	img, sum, err := image.Build(ctx, spec, work)
	if err != nil {
		return err
	}
	if err := image.Write(img, layoutDir, tarPath, tag); err != nil {
		return err
	}
	fmt.Print(sum)
	fmt.Printf("wrote %s and %s (%s) in %s\n", tarPath, layoutDir, tag, time.Since(start).Round(time.Second))
	return nil
}

// distVersion reads dist.version from the collector builder's config, so
// the image is labelled like the binary (`otelcol-nexus --version`).
func distVersion(builderConfig string) string {
	f, err := os.Open(builderConfig)
	if err != nil {
		return "dev"
	}
	defer f.Close()
	inDist := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, " ") {
			inDist = strings.HasPrefix(line, "dist:")
			continue
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "version:"); ok && inDist {
			return strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return "dev"
}
