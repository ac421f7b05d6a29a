// AWS Signature Version 4 verification for the local stand-ins, shared by the
// Kinesis front (kinesalite.js) and the S3 front (s3rver.js).
//
// The stand-ins themselves do not check signatures (kinesalite looks for an
// Authorization header, s3rver for the access key id). We want the tests to
// prove that the project's own signer produces signatures the real services
// would accept, so each request is signed again here with an independent
// implementation (@smithy/signature-v4) and the configured secret key, and
// the two signatures are compared.
//
// Service differences are options, as in the project's signer:
//   uriEscapePath         true for every service but S3: the path is
//                         normalised and encoded once more before signing;
//                         S3 signs its path exactly as sent
//   allowUnsignedPayload  S3 accepts x-amz-content-sha256: UNSIGNED-PAYLOAD
//   requirePayloadHash    S3 requires x-amz-content-sha256 on every request
// A declared x-amz-content-sha256 is always compared with the body first.
//
// Failures are AuthError with a `kind` that each front maps to its service's
// own error type and status:
//   missing     no Authorization header at all
//   incomplete  Authorization header not parseable
//   payload     x-amz-content-sha256 missing, refused or not the body's hash
//   mismatch    the signature differs from the one computed here
//   invalid     anything else: wrong algorithm, scope or date, a required
//               header left unsigned, a signed header missing
//
// Limits, on purpose: only header authentication with X-Amz-Date is checked
// (no presigned query strings, no Date-only signing, no chunked payload
// signing); the project's clients use none of these. The request time is not
// compared with the clock.
'use strict'

const crypto = require('node:crypto')
const { PassThrough } = require('node:stream')
const { SignatureV4 } = require('@smithy/signature-v4')
const { Sha256 } = require('@aws-crypto/sha256-js')

const ALGORITHM = 'AWS4-HMAC-SHA256'
const DEFAULT_SECRET = 'kc-test-secret'
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'
const EMPTY_SHA256 = crypto.createHash('sha256').digest('hex')

// ------------------------------------------------------- request parsing

// Header name (lower case) -> value as SigV4 canonicalises it: each value
// trimmed, repeated headers joined with commas in the order they arrived.
function collectHeaders(rawHeaders) {
  const values = new Map()
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase()
    const value = rawHeaders[i + 1].trim()
    if (values.has(name)) values.get(name).push(value)
    else values.set(name, [value])
  }
  const headers = {}
  for (const [name, list] of values) headers[name] = list.join(',')
  return headers
}

// "/p?a=1&b=x%20y" -> { path: "/p", query: { a: "1", b: "x y" } }. The path
// stays as sent (the signer encodes it again when uriEscapePath is on, as
// SigV4 requires for every service but S3, and uses it as it is for S3);
// query values are decoded because the signer encodes them.
function splitTarget(target) {
  const at = target.indexOf('?')
  const path = at < 0 ? target : target.slice(0, at)
  const query = {}
  if (at >= 0) {
    for (const part of target.slice(at + 1).split('&')) {
      if (part === '') continue
      const eq = part.indexOf('=')
      const key = decodeComponent(eq < 0 ? part : part.slice(0, eq))
      const value = decodeComponent(eq < 0 ? '' : part.slice(eq + 1))
      if (key in query) query[key] = [].concat(query[key], value)
      else query[key] = value
    }
  }
  return { path: path || '/', query }
}

function decodeComponent(text) {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

class AuthError extends Error {
  constructor(kind, message, detail) {
    super(message)
    this.kind = kind
    // Short form for the log line; the message may span lines.
    this.detail = detail || message
  }
}

// "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/kinesis/aws4_request,
//  SignedHeaders=a;b, Signature=hex" -> its parts.
function parseAuthorization(header) {
  const space = header.indexOf(' ')
  if (space < 0) {
    throw new AuthError('incomplete',
      `Authorization header is not of the form "${ALGORITHM} Credential=..., SignedHeaders=..., Signature=..."`)
  }
  const algorithm = header.slice(0, space)
  const fields = {}
  for (const item of header.slice(space + 1).split(',')) {
    const text = item.trim()
    if (text === '') continue
    const eq = text.indexOf('=')
    if (eq < 0) {
      throw new AuthError('incomplete',
        `Authorization header has a component without "=": "${text}"`)
    }
    fields[text.slice(0, eq).trim()] = text.slice(eq + 1).trim()
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((k) => !fields[k])
  if (missing.length) {
    throw new AuthError('incomplete',
      `Authorization header lacks ${missing.join(', ')}`)
  }
  if (algorithm !== ALGORITHM) {
    throw new AuthError('invalid',
      `unsupported signing algorithm "${algorithm}"; expected ${ALGORITHM}`)
  }
  const scope = fields.Credential.split('/')
  if (scope.length !== 5 || scope.some((s) => s === '') || scope[4] !== 'aws4_request') {
    throw new AuthError('incomplete',
      `Credential "${fields.Credential}" is not of the form KEYID/YYYYMMDD/REGION/SERVICE/aws4_request`)
  }
  const signedHeaders = fields.SignedHeaders.split(';')
  const normalised = signedHeaders.map((h) => h.toLowerCase()).sort()
  if (signedHeaders.join(';') !== normalised.join(';') || new Set(signedHeaders).size !== signedHeaders.length) {
    throw new AuthError('invalid',
      `SignedHeaders "${fields.SignedHeaders}" must be lower case, sorted and without repeats`)
  }
  if (!/^[0-9a-f]{64}$/.test(fields.Signature)) {
    throw new AuthError('invalid',
      `Signature "${fields.Signature}" is not 64 lower-case hex digits`)
  }
  return {
    accessKeyId: scope[0],
    date: scope[1],
    region: scope[2],
    service: scope[3],
    signedHeaders,
    signature: fields.Signature,
  }
}

// "20240101T120000Z" -> Date, or null when malformed.
function parseAmzDate(text) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text || '')
  if (!m) return null
  const date = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]))
  return Number.isNaN(date.getTime()) ? null : date
}

// A signer that remembers the canonical request it built, so a mismatch can
// be explained. createCanonicalRequest is the signer's own step; the subclass
// only observes its result.
class ExplainingSigner extends SignatureV4 {
  createCanonicalRequest(request, canonicalHeaders, payloadHash) {
    this.lastCanonicalRequest = super.createCanonicalRequest(request, canonicalHeaders, payloadHash)
    return this.lastCanonicalRequest
  }
}

function sha256Hex(data) {
  return crypto.createHash('sha256').update(data).digest('hex')
}

// Throws AuthError unless the request carries a valid signature made with
// `secret` for `service` (see the top of this file for the options).
async function verifyRequest(req, body, options) {
  const {
    secret,
    service,
    uriEscapePath = true,
    allowUnsignedPayload = false,
    requirePayloadHash = false,
  } = options
  const headers = collectHeaders(req.rawHeaders)
  if (!headers.authorization) {
    if (/[?&]X-Amz-Signature=/i.test(req.url)) {
      throw new AuthError('invalid',
        'query-string (presigned) authentication is not supported by this stand-in; sign the Authorization header')
    }
    throw new AuthError('missing', 'Missing Authentication Token',
      'no Authorization header')
  }
  const auth = parseAuthorization(headers.authorization)

  const amzDate = headers['x-amz-date']
  if (amzDate === undefined) {
    throw new AuthError('invalid',
      'the request has no X-Amz-Date header (this stand-in does not verify Date-only signatures)')
  }
  const signingDate = parseAmzDate(amzDate)
  if (!signingDate) {
    throw new AuthError('invalid',
      `X-Amz-Date "${amzDate}" is not of the form YYYYMMDDTHHMMSSZ`)
  }
  if (auth.date !== amzDate.slice(0, 8)) {
    throw new AuthError('invalid',
      `credential scope date ${auth.date} differs from the date of X-Amz-Date ${amzDate}`)
  }
  if (auth.service !== service) {
    throw new AuthError('invalid',
      `credential scope names service "${auth.service}"; requests here must be signed for "${service}"`)
  }

  // Every signed header must be there, and the ones that decide what the
  // request does must be signed.
  const signed = new Set(auth.signedHeaders)
  const absent = auth.signedHeaders.filter((h) => !(h in headers))
  if (absent.length) {
    throw new AuthError('invalid',
      `signed header(s) ${absent.join(', ')} not present in the request`)
  }
  const mustSign = Object.keys(headers).filter((h) => h === 'host' || h.startsWith('x-amz-'))
  const unsigned = mustSign.filter((h) => !signed.has(h)).sort()
  if (!signed.has('host') || unsigned.length) {
    throw new AuthError('invalid',
      `header(s) ${(unsigned.length ? unsigned : ['host']).join(', ')} present but not in SignedHeaders ` +
      `(host and every x-amz-* header must be signed)`)
  }

  // The signer takes x-amz-content-sha256 at its word, so check it against
  // the body first.
  const bodyHash = body.length ? sha256Hex(body) : EMPTY_SHA256
  const declared = headers['x-amz-content-sha256']
  if (declared === undefined && requirePayloadHash) {
    throw new AuthError('payload',
      'the request has no x-amz-content-sha256 header; it is required for this service')
  }
  const unsignedOk = allowUnsignedPayload && declared === UNSIGNED_PAYLOAD
  if (declared !== undefined && declared !== bodyHash && !unsignedOk) {
    throw new AuthError('payload',
      declared === UNSIGNED_PAYLOAD || declared.startsWith('STREAMING-')
        ? `x-amz-content-sha256 "${declared}" is not accepted: the body must be signed`
        : `x-amz-content-sha256 ${declared} does not match the body's SHA-256 ${bodyHash}`)
  }

  // Rebuild the request from exactly the signed headers and the body.
  const { path, query } = splitTarget(req.url)
  const toSign = {
    method: req.method,
    protocol: 'http:',
    hostname: (headers.host || '').replace(/:\d+$/, ''),
    path,
    query,
    headers: {},
    body: body.length ? body : undefined,
  }
  for (const name of auth.signedHeaders) toSign.headers[name] = headers[name]

  const signer = new ExplainingSigner({
    credentials: {
      accessKeyId: auth.accessKeyId,
      secretAccessKey: secret,
      sessionToken: undefined,
    },
    region: auth.region,
    service: auth.service,
    sha256: Sha256,
    applyChecksum: false,
    uriEscapePath,
  })
  // The signer adds X-Amz-Date itself; keep out any header that was not
  // signed, and keep in the signed ones it would otherwise skip (User-Agent,
  // for instance).
  const unsignable = new Set(['x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token']
    .filter((h) => !signed.has(h)))
  const signedRequest = await signer.sign(toSign, {
    signingDate,
    signingRegion: auth.region,
    signingService: auth.service,
    signableHeaders: signed,
    unsignableHeaders: unsignable,
  })
  const expected = /Signature=([0-9a-f]{64})/.exec(signedRequest.headers.authorization)[1]
  const expectedHeaders = /SignedHeaders=([^,]*)/.exec(signedRequest.headers.authorization)[1]

  if (expectedHeaders !== auth.signedHeaders.join(';') ||
      !crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(auth.signature))) {
    const canonical = signer.lastCanonicalRequest || ''
    const canonicalHash = sha256Hex(canonical)
    const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`
    const stringToSign = `${ALGORITHM}\n${amzDate}\n${scope}\n${canonicalHash}`
    throw new AuthError('mismatch',
      'Signature mismatch: the signature computed here from the signed headers, the body and the ' +
      'secret key configured for this stand-in differs from the one in the Authorization header. ' +
      'Either the secret key differs or the request was signed differently. ' +
      `Canonical request computed here (SHA-256 ${canonicalHash}):\n${canonical}\n` +
      `String to sign computed here:\n${stringToSign}`,
      `signature mismatch (canonical request sha256 ${canonicalHash}, ` +
      `scope ${scope}, signed headers ${auth.signedHeaders.join(';')})`)
  }
}


// ------------------------------------------------------- serving requests

// True when KC_STANDIN_VERIFY turns verification off ("0", "false", ...).
function verifyOffByEnv() {
  const value = (process.env.KC_STANDIN_VERIFY || '').toLowerCase()
  return ['0', 'false', 'no', 'off'].includes(value)
}

// Hand a fully read request to the stand-in's own handler, which expects to
// read the body from the request stream itself.
function replay(handler, req, res, body) {
  const copy = new PassThrough()
  copy.method = req.method
  copy.url = req.url
  copy.headers = req.headers
  copy.rawHeaders = req.rawHeaders
  copy.httpVersion = req.httpVersion
  copy.httpVersionMajor = req.httpVersionMajor
  copy.httpVersionMinor = req.httpVersionMinor
  copy.socket = req.socket
  copy.connection = req.socket
  handler(copy, res)
  copy.end(body.length ? body : undefined)
}

// A 'request' listener that reads each request's body (up to maxBodyBytes;
// beyond that it answers 413 and closes the connection), verifies its
// signature when `shouldVerify(req)` says so, and then hands it to
// `backend` or calls `reject(req, res, authError)`.
//
//   backend        the stand-in's own (req, res) listener
//   verify         false: hand everything to backend unchecked
//   verifyOptions  options for verifyRequest
//   shouldVerify   (req) -> boolean; default: every request
//   reject         (req, res, err) -> answers with the service's error shape
function createVerifyingListener({ backend, verify, verifyOptions, maxBodyBytes, shouldVerify, reject }) {
  return (req, res) => {
    const chunks = []
    let size = 0
    let tooLarge = false
    req.on('data', (chunk) => {
      if (tooLarge) return
      size += chunk.length
      if (size > maxBodyBytes) {
        tooLarge = true
        res.statusCode = 413
        res.setHeader('Connection', 'close')
        res.end()
        return
      }
      chunks.push(chunk)
    })
    req.on('error', () => res.destroy())
    req.on('end', () => {
      if (tooLarge) return
      const body = Buffer.concat(chunks, size)
      if (!verify || (shouldVerify && !shouldVerify(req))) return replay(backend, req, res, body)
      verifyRequest(req, body, verifyOptions).then(
        () => replay(backend, req, res, body),
        (err) => {
          if (!(err instanceof AuthError)) {
            err = new AuthError('invalid', `could not verify the signature: ${err.message}`)
          }
          reject(req, res, err)
        })
    })
  }
}

module.exports = {
  ALGORITHM,
  DEFAULT_SECRET,
  UNSIGNED_PAYLOAD,
  AuthError,
  createVerifyingListener,
  replay,
  verifyOffByEnv,
  verifyRequest,
}
