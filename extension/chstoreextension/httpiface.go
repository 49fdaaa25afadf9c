package chstoreextension

import (
	"errors"
	"net/http"
)

func (e *chstore) httpHandler() (http.Handler, error) {
	return nil, errors.New("http interface: not wired yet")
}
