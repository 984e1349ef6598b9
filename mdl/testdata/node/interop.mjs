// Interop driver for pkikit's mdl tests: runs @owf/mdoc (OpenWallet Foundation mdoc-ts) as the independent peer.
//
//   node interop.mjs verify DIR   verifies DIR/deviceResponse.cbor (made by pkikit) against DIR/iaca.der with
//                                 the session transcript DIR/sessionTranscript.cbor at DIR/now.txt; for a
//                                 deviceMac, DIR/reader-key.jwk is the reader's ephemeral private key.
//   node interop.mjs issue DIR    issues an mDL with DIR/ds.der + DIR/ds-key.jwk for the device key
//                                 DIR/device-key.jwk, presents a subset for DIR/sessionTranscript.cbor, and writes
//                                 DIR/issuerSigned.cbor and DIR/deviceResponse.cbor for pkikit to verify.
//
// It prints one JSON object on stdout. Crypto comes from node:crypto only (the MdocContext callbacks below).
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import {
  CoseKey, DateOnly, DeviceAuthentication, DeviceKey, DeviceRequest, DeviceResponse, DocRequest, Holder, Issuer,
  ItemsRequest, SessionTranscript, SignatureAlgorithm, Verifier,
} from '@owf/mdoc'

const hashOf = (alg) => ({ ES256: 'sha256', ES384: 'sha384', ES512: 'sha512', EdDSA: null, [-7]: 'sha256', [-35]: 'sha384', [-36]: 'sha512', [-8]: null })[alg]

function nodeKey(coseKey, priv) {
  const jwk = { ...coseKey.jwk }
  if (!priv) delete jwk.d
  return priv ? crypto.createPrivateKey({ key: jwk, format: 'jwk' }) : crypto.createPublicKey({ key: jwk, format: 'jwk' })
}

// rawECPoint accepts a COSE_Key (CBOR) or an uncompressed point and returns the uncompressed point.
function rawECPoint(bytes) {
  if (bytes.length === 65 && bytes[0] === 4) return bytes
  const k = CoseKey.decode(bytes)
  return Buffer.concat([Buffer.from([4]), Buffer.from(k.x), Buffer.from(k.y)])
}

function rawPrivate(bytes) {
  if (bytes.length === 32) return bytes
  return CoseKey.decode(bytes).d
}

function nameField(dn, field) {
  return dn.split('\n').filter((l) => l.startsWith(field + '=')).map((l) => l.slice(field.length + 1))
}

export const ctx = {
  crypto: {
    random: (n) => crypto.getRandomValues(new Uint8Array(n)),
    digest: async ({ digestAlgorithm, bytes }) => new Uint8Array(await crypto.subtle.digest(digestAlgorithm, bytes)),
    calculateEphemeralMacKey: async ({ privateKey, publicKey, sessionTranscriptBytes, info }) => {
      const ecdh = crypto.createECDH('prime256v1')
      ecdh.setPrivateKey(Buffer.from(rawPrivate(privateKey)))
      const z = ecdh.computeSecret(Buffer.from(rawECPoint(publicKey)))
      const salt = crypto.createHash('sha256').update(sessionTranscriptBytes).digest()
      const k = new Uint8Array(crypto.hkdfSync('sha256', z, salt, Buffer.from(info), 32))
      return CoseKey.create({ keyType: 4, k })
    },
  },
  cose: {
    sign1: {
      sign: async ({ toBeSigned, key, algorithm }) => {
        const alg = algorithm ?? SignatureAlgorithm.ES256
        return new Uint8Array(crypto.sign(hashOf(alg), toBeSigned, { key: nodeKey(key, true), dsaEncoding: 'ieee-p1363' }))
      },
      verify: async ({ sign1, key }) => {
        const alg = sign1.signatureAlgorithmName
        return crypto.verify(hashOf(alg), sign1.toBeSigned, { key: nodeKey(key, false), dsaEncoding: 'ieee-p1363' }, sign1.signature)
      },
    },
    mac0: {
      sign: async ({ key, toBeAuthenticated }) =>
        new Uint8Array(crypto.createHmac('sha256', key.privateKey).update(toBeAuthenticated).digest()),
      verify: async ({ mac0, key }) => {
        const want = crypto.createHmac('sha256', key.privateKey).update(mac0.toBeAuthenticated).digest()
        return want.length === mac0.tag.length && crypto.timingSafeEqual(want, mac0.tag)
      },
    },
  },
  x509: {
    getIssuerNameField: ({ certificate, field }) => nameField(new crypto.X509Certificate(certificate).issuer, field),
    getPublicKey: async ({ certificate }) =>
      CoseKey.fromJwk(new crypto.X509Certificate(certificate).publicKey.export({ format: 'jwk' })),
    verifyCertificateChain: async ({ trustedCertificates, x5chain, now }) => {
      const at = now ?? new Date()
      const chain = x5chain.map((c) => new crypto.X509Certificate(c))
      const anchors = trustedCertificates.map((c) => new crypto.X509Certificate(c))
      const valid = (c) => new Date(c.validFrom) <= at && at <= new Date(c.validTo)
      for (let i = 0; i < chain.length; i++) {
        const c = chain[i]
        if (!valid(c)) throw new Error(`certificate ${c.subject} not valid at ${at.toISOString()}`)
        const parent = chain[i + 1]
        if (parent) {
          if (!c.checkIssued(parent) || !c.verify(parent.publicKey)) throw new Error(`${c.subject} not signed by ${parent.subject}`)
          continue
        }
        const anchor = anchors.find((a) => c.checkIssued(a) && c.verify(a.publicKey))
        if (!anchor) throw new Error(`${c.subject} does not chain to a trusted certificate`)
        if (!anchor.ca || !valid(anchor)) throw new Error('trust anchor is not a valid CA')
      }
    },
    getCertificateData: async ({ certificate }) => {
      const c = new crypto.X509Certificate(certificate)
      return {
        issuerName: c.issuer.replaceAll('\n', ', '), subjectName: c.subject.replaceAll('\n', ', '), serialNumber: c.serialNumber,
        thumbprint: c.fingerprint256.replaceAll(':', '').toLowerCase(), notBefore: new Date(c.validFrom),
        notAfter: new Date(c.validTo), pem: c.toString(),
      }
    },
  },
}

const read = (dir, f) => new Uint8Array(fs.readFileSync(path.join(dir, f)))
const readJSON = (dir, f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))

async function verify(dir) {
  const checks = []
  const now = new Date(fs.readFileSync(path.join(dir, 'now.txt'), 'utf8').trim())
  const sessionTranscript = SessionTranscript.decode(read(dir, 'sessionTranscript.cbor'))
  let ephemeralReaderKey
  if (fs.existsSync(path.join(dir, 'reader-key.jwk'))) ephemeralReaderKey = CoseKey.fromJwk(readJSON(dir, 'reader-key.jwk'))
  let error
  try {
    await Verifier.verifyDeviceResponse({
      deviceResponse: read(dir, 'deviceResponse.cbor'), sessionTranscript, ephemeralReaderKey,
      trustedCertificates: [read(dir, 'iaca.der')], now, skewSeconds: 0, onCheck: (c) => checks.push(c),
    }, ctx)
  } catch (e) {
    error = String(e && e.stack ? e.stack : e)
  }
  let failed = checks.filter((c) => c.status === 'FAILED')
  // @owf/mdoc 0.6.0 cannot pass any deviceMac: DeviceAuth.verify compares signatureAlgorithmName ("HS256") with
  // MacAlgorithm.HS256 (5) and, after the MAC branch, always adds "No Device Signature or Device Mac found". For a
  // deviceMac we therefore run the rest of that branch with the library's own objects (DeviceAuthentication,
  // DeviceMac.verify: EMacKey derivation, MAC_structure) and report the two known-bug checks separately.
  const knownBugs = ['Device MAC must use alg 5 (HMAC 256/256)', 'No Device Signature or Device Mac found on Device Auth']
  let peerBugs, macVerified
  const resp = DeviceResponse.decode(read(dir, 'deviceResponse.cbor'))
  const doc = resp.documents?.[0]
  const deviceMac = doc?.deviceSigned.deviceAuth.deviceMac
  if (!error && deviceMac && ephemeralReaderKey) {
    peerBugs = failed.filter((c) => knownBugs.includes(c.check)).map((c) => c.check)
    failed = failed.filter((c) => !knownBugs.includes(c.check))
    deviceMac.detachedPayload = DeviceAuthentication.create({
      sessionTranscript, docType: doc.docType, deviceNamespaces: doc.deviceSigned.deviceNamespaces,
    }).encode({ asDataItem: true })
    // Second 0.6.0 bug: Mac0.toBeAuthenticated leaves external_aad out of MAC_structure unless one is set
    // (RFC 9052 §6.3 requires ["MAC0", protected, external_aad = h'', payload]); set the empty one explicitly.
    deviceMac.externalAad = new Uint8Array(0)
    macVerified = await deviceMac.verify({
      publicKey: doc.issuerSigned.issuerAuth.mobileSecurityObject.deviceKeyInfo.deviceKey,
      privateKey: ephemeralReaderKey, sessionTranscript, info: 'EMacKey',
    }, ctx)
    if (!macVerified) failed.push({ status: 'FAILED', check: 'Device MAC must be valid (DeviceMac.verify)' })
  }
  // The peer re-encodes the transcript it decoded: report whether that gives our bytes back.
  const transcriptRoundTrip = Buffer.compare(Buffer.from(sessionTranscript.encode()), Buffer.from(read(dir, 'sessionTranscript.cbor'))) === 0
  return { ok: !error && failed.length === 0 && checks.length > 0, error, failed, checks: checks.length, peerBugs, macVerified, transcriptRoundTrip }
}

async function issue(dir) {
  const now = new Date(fs.readFileSync(path.join(dir, 'now.txt'), 'utf8').trim())
  const dsKey = CoseKey.fromJwk(readJSON(dir, 'ds-key.jwk'))
  const deviceJwk = readJSON(dir, 'device-key.jwk')
  // alg on the key: without it 0.6.0 writes {1: undefined} as the deviceSignature protected header.
  const devicePriv = CoseKey.fromJwk({ ...deviceJwk, alg: 'ES256' })
  const { d, ...devicePubJwk } = deviceJwk
  const issuer = new Issuer('org.iso.18013.5.1.mDL', ctx)
  issuer.addIssuerNamespace('org.iso.18013.5.1', {
    family_name: 'Doe', given_name: 'Jane', birth_date: new DateOnly('1990-02-03'),
    issue_date: new DateOnly('2026-01-15'), expiry_date: new DateOnly('2031-01-15'), issuing_country: 'US',
    issuing_authority: 'NY DMV', document_number: 'D1234567', portrait: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]),
    driving_privileges: [{ vehicle_category_code: 'B', issue_date: new DateOnly('2010-05-01') }],
    age_over_18: true, age_over_21: true,
  })
  const issuerSigned = await issuer.sign({
    signingKey: dsKey, algorithm: SignatureAlgorithm.ES256, digestAlgorithm: 'SHA-256',
    validityInfo: { signed: now, validFrom: now, validUntil: new Date(now.getTime() + 30 * 86400e3) },
    deviceKeyInfo: { deviceKey: DeviceKey.fromJwk(devicePubJwk) },
    certificates: [read(dir, 'ds.der')],
  })
  fs.writeFileSync(path.join(dir, 'issuerSigned.cbor'), issuerSigned.encode())
  const deviceRequest = DeviceRequest.create({
    docRequests: [DocRequest.create({
      itemsRequest: ItemsRequest.create({
        docType: 'org.iso.18013.5.1.mDL',
        namespaces: { 'org.iso.18013.5.1': { family_name: false, birth_date: false, age_over_21: false, issuing_country: false, portrait: false } },
      }),
    })],
  })
  const sessionTranscript = SessionTranscript.decode(read(dir, 'sessionTranscript.cbor'))
  const resp = await Holder.createDeviceResponseForDeviceRequest({
    deviceRequest, sessionTranscript, issuerSigned: [issuerSigned], signature: { signingKey: devicePriv },
  }, ctx)
  fs.writeFileSync(path.join(dir, 'deviceResponse.cbor'), resp.encode())
  return { ok: true }
}

const [cmd, dir] = process.argv.slice(2)
const run = { verify, issue }[cmd]
if (!run || !dir) {
  console.error('usage: node interop.mjs verify|issue DIR')
  process.exit(2)
}
try {
  const out = await run(dir)
  console.log(JSON.stringify(out))
  process.exit(out.ok ? 0 : 1)
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e && e.stack ? e.stack : e) }))
  process.exit(1)
}
