// A tiny example service: answers every request with who it is and what it saw.
import http from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const name = process.env.NAME ?? 'hello';
http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ service: name, method: req.method, path: req.url, host: req.headers.host, 'x-request-id': req.headers['x-request-id'] ?? null }) + '\n');
}).listen(port, '127.0.0.1', () => console.log(`${name} listening on 127.0.0.1:${port}`));
