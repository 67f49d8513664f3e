// Starts the npm Firestore emulator (@firestore-emulator/server) on the port
// given as the first argument and prints "listening" when ready. It binds
// 0.0.0.0 (the package does not let us choose); tests use a free port.
const { FirestoreServer } = require("@firestore-emulator/server");

const port = Number(process.argv[2] || 8086);
const server = new FirestoreServer();
server.start(port).then(() => console.log(`firestore emulator listening on port ${port}`));
process.on("SIGTERM", () => { server.stop(); process.exit(0); });
