package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/pkikit/pkikit/kmssigner"
	"github.com/pkikit/pkikit/kmssigner/awskms"
	"github.com/pkikit/pkikit/kmssigner/localkms"
)

// kmsOptions says where the CA key is.
type kmsOptions struct {
	// Endpoint of a KMS API (a localkms server, or AWS). Empty: start localkms's server on 127.0.0.1:0 in this
	// process with fresh random SigV4 credentials and an in-memory key store.
	Endpoint string
	// Region of Endpoint (SigV4 scope); empty takes the SDK's default.
	Region string
	// KeyID of the CA key (id, ARN or alias/NAME). Empty: create an ECC_NIST_P256 SIGN_VERIFY key.
	KeyID string
}

// caKey is the CA's signer: a kmssigner.Signer over awskms (the real AWS SDK client, SigV4) talking to the KMS
// over HTTP, exactly as a CA in another process than the KMS would.
type caKey struct {
	Signer   *kmssigner.Signer
	KeyID    string
	Endpoint string
	Created  bool // KeyID was created by openCAKey
	Client   *awskms.Client
	close    func() // stops the in-process KMS server, if any
}

func (k *caKey) Close() {
	if k.close != nil {
		k.close()
	}
}

// openCAKey connects to the KMS (starting the in-process localkms server when no endpoint is given), creates
// the CA key if none is named, and returns a signer for it.
func openCAKey(ctx context.Context, o kmsOptions) (_ *caKey, err error) {
	k := &caKey{Endpoint: o.Endpoint, KeyID: o.KeyID}
	opts := awskms.Options{Endpoint: o.Endpoint, Region: o.Region}
	if o.Endpoint == "" {
		// A KMS of our own, reached over its HTTP API like any other: SigV4 with credentials only it and we know.
		store := localkms.NewMemory(&localkms.Options{})
		creds, err := randomCredentials()
		if err != nil {
			return nil, err
		}
		srv, err := localkms.NewServer(store, &localkms.ServerOptions{Credentials: []localkms.Credentials{creds}})
		if err != nil {
			return nil, err
		}
		ln, err := srv.Listen("127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		tl := &trackingListener{Listener: ln, conns: make(map[net.Conn]struct{})}
		go func() {
			defer close(done)
			srv.Serve(sctx, tl)
		}()
		k.close = func() {
			stop()
			tl.closeAll()
			<-done
		}
		k.Endpoint = "http://" + ln.Addr().String()
		opts.Endpoint, opts.Region = k.Endpoint, store.Region()
		opts.Credentials = credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")
	}
	defer func() {
		if err != nil {
			k.Close()
		}
	}()
	opts.MaxAttempts = 5 // throttling and connection errors are retried by the SDK
	sdk, err := awskms.LoadSDKClient(ctx, opts)
	if err != nil {
		return nil, err
	}
	if k.KeyID == "" {
		out, err := sdk.CreateKey(ctx, &kms.CreateKeyInput{
			KeySpec:     types.KeySpecEccNistP256,
			KeyUsage:    types.KeyUsageTypeSignVerify,
			Description: aws.String("containercert example CA"),
		})
		if err != nil {
			return nil, fmt.Errorf("creating the CA key: %w", err)
		}
		k.KeyID, k.Created = aws.ToString(out.KeyMetadata.KeyId), true
	}
	k.Client = awskms.New(sdk)
	if k.Signer, err = kmssigner.New(ctx, k.Client, k.KeyID, nil); err != nil {
		return nil, err
	}
	if k.Signer.Public() == nil {
		return nil, errors.New("KMS returned no public key")
	}
	return k, nil
}

func randomCredentials() (localkms.Credentials, error) {
	id, secret := make([]byte, 8), make([]byte, 30)
	if _, err := rand.Read(id); err != nil {
		return localkms.Credentials{}, err
	}
	if _, err := rand.Read(secret); err != nil {
		return localkms.Credentials{}, err
	}
	return localkms.Credentials{AccessKeyID: "AKCC" + strings.ToUpper(hex.EncodeToString(id)), SecretAccessKey: hex.EncodeToString(secret)}, nil
}

// trackingListener remembers the connections it accepted so that closeAll can end them. The SDK dials extra
// connections under concurrency that never carry a request, and http.Server.Shutdown (which localkms's Serve
// calls) waits up to 5 s for such connections; closing them after Shutdown has begun ends the wait at once.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.conns[c] = struct{}{}
	l.mu.Unlock()
	return &trackedConn{Conn: c, l: l}, nil
}

type trackedConn struct {
	net.Conn
	l *trackingListener
}

func (c *trackedConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c.Conn)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

func (l *trackingListener) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		c.Close()
	}
}
