'use strict'
// Serving a stand-in: listen on 127.0.0.1 only, say "ready" on stdout once
// listening (the start scripts wait for that line), and stop cleanly on
// SIGTERM/SIGINT. Shared by every stand-in front.

// `name` prefixes the log lines; `describe()` says what is served, once it
// listens. A server error (a taken port) is logged and exits with status 1.
function serveOnLoopback(server, { name, port, describe }) {
  server.on('error', (err) => {
    process.stderr.write(`${name}: ${err.message}\n`)
    process.exit(1)
  })

  server.listen(port, '127.0.0.1', () => {
    const { port: bound } = server.address()
    process.stderr.write(`${name}: listening on http://127.0.0.1:${bound}, ${describe()}\n`)
    process.stdout.write('ready\n')
  })

  let stopping = false
  const stop = (signal) => {
    if (stopping) return
    stopping = true
    process.stderr.write(`${name}: ${signal}, stopping\n`)
    setTimeout(() => process.exit(0), 3000).unref()
    server.closeAllConnections()
    server.close(() => process.exit(0))
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

module.exports = { serveOnLoopback }
