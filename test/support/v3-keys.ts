/**
 * The v3 test configuration: the keys of v3 reference §9.4 (made for this project; TEST-ONLY, no real
 * merchant's) and the sandbox's self-signed platform certificate of the "WeChat Pay" key. Plain
 * constants: vitest.config.ts reads them (through bindings.ts) in Node.
 */
import { MERCHANT_KEY, WXPAY_KEY, WXPAY_PUB } from '../wechat/v3/vectors.ts'

export const MCH_SERIAL = '7A1C3D5E9F0B2468ACE13579BDF02468ACE13579'
export const APIV3_KEY = 'TestAPIv3Key0123456789abcdefABCD'
export const PUBLIC_KEY_ID = 'PUB_KEY_ID_0000000000000000000000000000000001'

/**
 * `openssl req -x509 -new -key <the §9.4 "WeChat Pay" key> -sha256 -days 3650 -set_serial
 * 0x3A7E5C1B9D2F4680ACE02468BDF13579ACE02468 -subj "/C=CN/O=wxpayserver sandbox/OU=TEST ONLY/CN=…"`:
 * the platform certificate the sandbox serves in certificate mode (also SANDBOX_V3_CERTIFICATE in wrangler.toml).
 */
export const SANDBOX_CERTIFICATE =
  '-----BEGIN CERTIFICATE-----\nMIID3TCCAsWgAwIBAgIUOn5cG50vRoCs4CRovfE1eazgJGgwDQYJKoZIhvcNAQEL\nBQAwfjELMAkGA1UEBhMCQ04xHDAaBgNVBAoME3d4cGF5c2VydmVyIHNhbmRib3gx\nEjAQBgNVBAsMCVRFU1QgT05MWTE9MDsGA1UEAww0V2VDaGF0IFBheSBwbGF0Zm9y\nbSBjZXJ0aWZpY2F0ZSAoc2FuZGJveCwgdGVzdCBvbmx5KTAeFw0yNjEyMDYwNDU5\nMzJaFw0zNjEyMDMwNDU5MzJaMH4xCzAJBgNVBAYTAkNOMRwwGgYDVQQKDBN3eHBh\neXNlcnZlciBzYW5kYm94MRIwEAYDVQQLDAlURVNUIE9OTFkxPTA7BgNVBAMMNFdl\nQ2hhdCBQYXkgcGxhdGZvcm0gY2VydGlmaWNhdGUgKHNhbmRib3gsIHRlc3Qgb25s\neSkwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQDFox7b3VdfIhbOZB8y\nkEmW97w2JFAGn0JyLfA2aPOuFuUxkR8skM2nc+opEZuOp4yzo4a+OyRtzORWyjKo\nRgSvfqUfx0kEMbInySEKry2taE5LWiTZUyYVH1cZrZe2CVuDCX4gWt7saH0cnRmK\nh19Kj/qDqrER+iroxdSA3M6Nu0Uarbi4L6lfRy8L3mityptoj4cb4AC69NUtGSvB\nlPaQEFhxR5K7Ck1eW91VjVJ7CsWzAtLrO6tijf0AAl0FTxNEW/JtRqoCnNy7bF0I\nMyRqZXJGcjxiEROsDcVZsTTYV60sVqZfOQO+4uZ4okd9aK+Pn33fJLJm4aKC5M8N\nTEkjAgMBAAGjUzBRMB0GA1UdDgQWBBQ1chaJFnT6Ml1zLiEOkUlMQ2ADeTAfBgNV\nHSMEGDAWgBQ1chaJFnT6Ml1zLiEOkUlMQ2ADeTAPBgNVHRMBAf8EBTADAQH/MA0G\nCSqGSIb3DQEBCwUAA4IBAQAqLpt4rqt/McdZG9buXEtTtm/h+ix2NXb3g/XOGA/3\nJn1M3Z0SQ8Hp7NpnNiZa4HAtO6CAv2+hOZS1VWrJRw5AwLImJZILSqRUthoGkNLW\n8BqI0Hq3a2khYayY3TNaqkegQV8rFUCmO+q3xgGNF4aY1vRJoAFHB9rMOGwzYhVg\nNxzOT8AariAaZu8uyevCs/yWc/TNSuSMC5aXjYLfuR7t0glpOA2UpIp30Yx90jsa\n7ePrr+6QzeWjHWJOgWDBAH24PSJ86vndujeNJd8oTT5GqeM2Uoftn1eCBIRWo2Nq\nUapzXJ6gaYrERHnKy7NDCtGCQJxbd7o6ClSr50sxvkxD\n-----END CERTIFICATE-----'
export const CERTIFICATE_SERIAL = '3A7E5C1B9D2F4680ACE02468BDF13579ACE02468'

/** The sandbox's "WeChat Pay" keys and what the merchant registered with it (settings.ts). */
export const SANDBOX_V3_BINDINGS = {
  SANDBOX_V3_PRIVATE_KEY: WXPAY_KEY,
  SANDBOX_V3_PUBLIC_KEY_ID: PUBLIC_KEY_ID,
  SANDBOX_V3_CERTIFICATE: SANDBOX_CERTIFICATE,
} as const

/** The merchant's v3 credentials (the service reads them under WXPAY_API_VERSION=v3; the sandbox checks with them). */
export const MERCHANT_V3_BINDINGS = {
  WXPAY_MCH_SERIAL: MCH_SERIAL,
  WXPAY_PRIVATE_KEY: MERCHANT_KEY,
  WXPAY_APIV3_KEY: APIV3_KEY,
  WXPAY_PUBLIC_KEY_ID: PUBLIC_KEY_ID,
  WXPAY_PUBLIC_KEY: WXPAY_PUB,
} as const
