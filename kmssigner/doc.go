// Package kmssigner turns keys that live in a key-management service into crypto.Signers.
package kmssigner
