/** `node server-process.ts <system>`: one stream server; prints `listening <port>`, exits when stdin closes. */
import { serve, type StreamSystemName } from './systems.ts';

const server = await serve(process.argv[2] as StreamSystemName);
console.log(`listening ${server.port}`);
process.stdin.resume();
process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
