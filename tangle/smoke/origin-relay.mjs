// QEMU's guestfwd runs this once per guest connection (`cmd:node origin-relay.mjs PORT`), with the guest's
// connection on stdin and stdout; it joins them to the origin server the smoke runner started on 127.0.0.1:PORT.
// Plain JavaScript, so node starts it without a compiler.
import { connect } from 'node:net';

const port = Number(process.argv[2]);
const origin = connect({ host: '127.0.0.1', port });
process.stdin.pipe(origin);
origin.pipe(process.stdout);
// Either side ending ends the relay; a reset on the origin's side resets nothing more than this one connection.
origin.on('error', () => process.exit(1));
origin.on('close', () => process.exit(0));
process.stdin.on('error', () => process.exit(1));
