package main

import (
	"errors"
	"fmt"
	"net/http"
)

var (
	// errRefused: the CA's policy refuses the request (HTTP 403).
	errRefused = errors.New("containercert: refused by the CA's policy")
	// errBadRequest: a request the CA cannot read (HTTP 400).
	errBadRequest = errors.New("containercert: bad certificate request")
	// errBusy: the CA has too many requests in flight and the caller's context ended while waiting.
	errBusy = errors.New("containercert: CA busy")
)

// errMismatch: a key file whose public key is not the certificate's.
var errMismatch = errors.New("containercert: key does not match certificate")

// caHTTPError is a non-success answer of the CA service; it unwraps to errRefused (403) or errBadRequest (400).
type caHTTPError struct {
	Status  int
	Message string
}

func (e *caHTTPError) Error() string {
	return fmt.Sprintf("containercert: CA answered %d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

func (e *caHTTPError) Unwrap() error {
	switch e.Status {
	case http.StatusForbidden:
		return errRefused
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return errBadRequest
	case http.StatusServiceUnavailable:
		return errBusy
	}
	return nil
}
