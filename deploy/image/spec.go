// Package image assembles the Nexus container image without a container
// daemon: the release binary, the engine library beside it, the shipped
// configs and the few runtime files of this machine that the binary and
// the library load (glibc, CA certificates, time zones), as an OCI image.
package image

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Paths inside the image. The engine library sits beside the binary,
// where the binary looks after $CHDB_LIB_PATH.
const (
	InstallDir  = "/opt/nexus"
	BinaryPath  = InstallDir + "/otelcol-nexus"
	EnginePath  = InstallDir + "/libchdb.so"
	ProbePath   = InstallDir + "/nexus-healthcheck"
	ConfigDir   = "/etc/nexus"
	DataDir     = "/data"
	UserName    = "nexus"
	UID         = 65532 // the distroless "nonroot" id: no clash with host users
	GID         = 65532
	HomeDir     = "/home/nexus"
	DefaultTag  = "otelcol-nexus:dev"
	LayoutName  = "org.opencontainers.image.ref.name"
	maxSymlinks = 40
)

// Spec names the host files an image is assembled from.
type Spec struct {
	// Binary is the release binary (bin/otelcol-nexus).
	Binary string
	// Engine is libchdb.so (.engine/libchdb.so).
	Engine string
	// Probe is the static health probe (cmd/nexus-healthcheck, built).
	Probe string
	// Configs is the directory whose *.yaml files land in /etc/nexus.
	Configs string
	// Config is the default config, a file name in Configs.
	Config string
	// Overlays are configs baked beside Configs' (the overlay for
	// published ports, deploy/docker/published.yaml).
	Overlays []string
	// LibDirs are searched, in order, for the shared libraries the binary
	// and the engine need (their DT_NEEDED entries, recursively).
	LibDirs []string
	// ExtraLibs are loaded at run time without being DT_NEEDED (glibc
	// dlopens libgcc_s for thread cancellation and unwinding).
	ExtraLibs []string
	// CACerts is the CA bundle the Go runtime reads for TLS to providers.
	CACerts string
	// ZoneInfo is the time zone database ($NEXUS_TIME_ZONE, the console).
	ZoneInfo string
	// Version labels the image; Created is its fixed creation time, so
	// that the same inputs give the same digest.
	Version string
	Created time.Time
}

// DefaultSpec is the image `make image` builds from a repository checkout.
func DefaultSpec(repo string) Spec {
	return Spec{
		Binary:    filepath.Join(repo, "bin", "otelcol-nexus"),
		Engine:    filepath.Join(repo, ".engine", "libchdb.so"),
		Probe:     filepath.Join(repo, "bin", "nexus-healthcheck"),
		Configs:   filepath.Join(repo, "configs"),
		Config:    "local.yaml",
		Overlays:  []string{filepath.Join(repo, "deploy", "docker", "published.yaml")},
		LibDirs:   []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64"},
		ExtraLibs: []string{"libgcc_s.so.1"},
		CACerts:   "/etc/ssl/certs/ca-certificates.crt",
		ZoneInfo:  "/usr/share/zoneinfo",
		Version:   "dev",
		Created:   time.Unix(0, 0).UTC(),
	}
}

// Validate says which input is missing, so that `make image` fails with
// the step to run rather than with a half-built image.
func (s Spec) Validate() error {
	var errs []error
	for _, f := range []struct{ name, path, hint string }{
		{"binary", s.Binary, "run make build"},
		{"engine", s.Engine, "run make engine"},
		{"probe", s.Probe, "build deploy/image/cmd/nexus-healthcheck"},
		{"configs", s.Configs, ""},
		{"CA certificates", s.CACerts, "install ca-certificates"},
	} {
		if f.path == "" {
			errs = append(errs, fmt.Errorf("%s: no path given", f.name))
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %w", f.name, f.hint, err))
		}
	}
	if s.Config == "" || filepath.Base(s.Config) != s.Config {
		errs = append(errs, fmt.Errorf("config: %q must be a file name in %s", s.Config, s.Configs))
	} else if _, err := os.Stat(filepath.Join(s.Configs, s.Config)); err != nil {
		errs = append(errs, fmt.Errorf("config: %w", err))
	}
	for _, o := range s.Overlays {
		if _, err := os.Stat(o); err != nil {
			errs = append(errs, fmt.Errorf("overlay: %w", err))
		}
	}
	if len(s.LibDirs) == 0 {
		errs = append(errs, errors.New("lib dirs: none given"))
	}
	return errors.Join(errs...)
}

// Ports the shipped configs listen on; EXPOSE documents them.
var Ports = []string{"4317/tcp", "4318/tcp", "8080/tcp", "8123/tcp", "8787/tcp", "8888/tcp", "13133/tcp"}

// Env is the image's environment. CHDB_LIB_PATH stays unset: the binary
// finds the engine beside itself, and an operator may still set it.
func Env() []string {
	return []string{
		"PATH=" + InstallDir + ":/usr/local/bin:/usr/bin:/bin",
		"NEXUS_DATA_DIR=" + DataDir,
		"HOME=" + HomeDir,
	}
}

// Command is the image's default: `make run`'s, with the baked config.
func (s Spec) Command() (entrypoint, cmd []string) {
	return []string{BinaryPath}, []string{"--config", ConfigDir + "/" + s.Config}
}
