package pkcs11

import (
	"context"
	"strconv"

	"github.com/pkikit/pkikit/kmssigner"
)

// config turns a URI's module, token and PIN attributes into a Config.
func (u *URI) config() (Config, error) {
	const op = "open URI"
	var cfg Config
	switch {
	case u.ModulePath != "":
		cfg.ModulePath = u.ModulePath
	case u.ModuleName != "":
		return cfg, errf(op, ErrModule, "module-name is not resolved here; give module-path")
	default:
		return cfg, errf(op, ErrModule, "no module-path in the URI")
	}
	switch {
	case u.Serial != "":
		cfg.TokenSerial = u.Serial
	case u.Token != "":
		cfg.TokenLabel = u.Token
	case u.SlotID != "":
		n, err := strconv.ParseUint(u.SlotID, 10, 32)
		if err != nil {
			return cfg, errf(op, ErrInvalidURI, "slot-id out of range")
		}
		slot := uint(n)
		cfg.SlotID = &slot
	default:
		return cfg, errf(op, ErrInvalidURI, "the URI names no token (serial=, token= or slot-id=)")
	}
	pin, err := u.PIN()
	if err != nil {
		return cfg, err
	}
	if pin == "" {
		return cfg, errf(op, ErrPIN, "the URI gives no PIN (pin-source= or pin-value=)")
	}
	cfg.PIN = pin
	return cfg, nil
}

// Importing this package registers the pkcs11: scheme with kmssigner.Open (through OpenURI).
func init() {
	kmssigner.Register(Scheme, func(ctx context.Context, uri string) (kmssigner.Client, string, error) {
		c, keyID, err := OpenURI(ctx, uri)
		if err != nil {
			return nil, "", err
		}
		return c, keyID, nil
	})
}
