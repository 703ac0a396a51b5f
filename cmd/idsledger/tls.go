package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// certReloader serves the certificate in a pair of PEM files and picks up
// a renewed pair without a restart: on SIGHUP, and when either file's
// modification time changes (checked at most every few seconds, at a
// handshake). A renewed pair that does not load is logged and the last
// good one kept, so a half-written renewal never takes the service down.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger
	every             time.Duration

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   [2]time.Time // modification times of the loaded pair
	checked time.Time
}

// newCertReloader loads the pair now: a pair that does not load is an error
// at start.
func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log, every: 5 * time.Second}
	if err := r.load(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *certReloader) stamps() ([2]time.Time, error) {
	var s [2]time.Time
	for i, f := range []string{r.certFile, r.keyFile} {
		st, err := os.Stat(f)
		if err != nil {
			return s, err
		}
		s[i] = st.ModTime()
	}
	return s, nil
}

// load reads the pair. Callers hold r.mu, or own r.
func (r *certReloader) load() error {
	s, err := r.stamps()
	if err != nil {
		return err
	}
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate %s and key %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert, r.stamp = &c, s
	return nil
}

// reload loads the pair again if asked (force) or if the files changed.
func (r *certReloader) reload(force bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checked = time.Now()
	if !force {
		if s, err := r.stamps(); err != nil || s == r.stamp {
			return
		}
	}
	if err := r.load(); err != nil {
		r.log.Error("TLS certificate not reloaded; serving the previous one", "error", err.Error())
		return
	}
	r.log.Info("TLS certificate reloaded", "cert", r.certFile)
}

// GetCertificate is tls.Config.GetCertificate.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	due := time.Since(r.checked) >= r.every
	r.mu.Unlock()
	if due {
		r.reload(false)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cert, nil
}

// watchSIGHUP reloads the pair on every SIGHUP until ctx ends.
func (r *certReloader) watchSIGHUP(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.reload(true)
		}
	}
}

// tlsConfig is the server's TLS: 1.2 and up, certificates from r.
func (r *certReloader) tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.GetCertificate}
}
