// The limit to compare against: a bare node:http server answering 200 with a small JSON body.
import http from 'node:http'
const body = JSON.stringify({ status: 'ok' })
const server = http.createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
})
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`))
