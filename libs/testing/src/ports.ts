import * as net from 'node:net';

/** Ports this process has handed out: the OS may offer a closed port again, a test must not get it twice. */
const handedOut = new Set<number>();

/**
 * A port for a service to listen on, allocated by the OS: listen on port 0 of 127.0.0.1, read the
 * port it chose, close. Linux hands out odd ports for bind(0) and prefers even ones for outgoing
 * connections, so the many client connections opened before the service binds it do not take it.
 */
export async function allocatePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await portFromOs();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('the OS kept offering ports this process has already handed out');
}

function portFromOs(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
