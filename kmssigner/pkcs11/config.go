package pkcs11

// Config says which PKCS#11 module and token a Client uses. Exactly one of TokenLabel, TokenSerial and SlotID
// selects the token.
type Config struct {
	// ModulePath is the absolute path of the PKCS#11 module (for SoftHSM2, /usr/lib/softhsm/libsofthsm2.so).
	ModulePath string
	// TokenLabel selects the token by its label.
	TokenLabel string
	// TokenSerial selects the token by its serial number.
	TokenSerial string
	// SlotID selects the token by the id of the slot holding it.
	SlotID *uint
	// PIN is the user PIN the Client logs in with. It is kept by the PKCS#11 layer for the Client's lifetime
	// and never appears in an error.
	PIN string
	// MaxSessions bounds the sessions the Client opens (concurrent signatures); 0 means crypto11's default
	// (1024, or the token's own limit), otherwise at least 2.
	MaxSessions int
}
