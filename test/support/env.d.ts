// Lets tests call `exports.default.fetch` with the Worker's real type.
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import('../../src/index')
  }
}
