/**
 * @module
 * A minimal keep-alive HTTP/1.1 client on node:http, for timing requests to local servers: one
 * call, one request, the whole body read, nothing else in the way.
 */
import { Agent, request } from 'node:http'

/** A keep-alive agent holding up to `sockets` connections. */
export function keepAlive(sockets) {
  return new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets })
}

/**
 * Sends one request and reads the whole reply.
 * @returns {Promise<{ status: number, body: string }>}
 */
export function send(agent, url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent,
        headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => {
          text += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}
