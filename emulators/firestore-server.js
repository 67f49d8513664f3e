// Starts the npm Firestore emulator (@firestore-emulator/server) on the port
// given as the first argument and prints "listening" when ready. It binds
// 0.0.0.0 (the package does not let us choose); tests use a free port.
const { FirestoreServer, FirestoreStateDocument } = require("@firestore-emulator/server");

// Firestore filters on the document's name as the field "__name__" (Go:
// firestore.DocumentID), compared with reference values; the package looks
// "__name__" up among the fields, finds nothing and matches no document.
// Answer it with the document's full name as a reference value, as
// Firestore and Google's emulator do (==, in, not-in).
const getField = FirestoreStateDocument.prototype.getField;
FirestoreStateDocument.prototype.getField = function (path) {
  if (path !== "__name__") return getField.call(this, path);
  const name = this.getPath();
  return {
    type: "reference_value",
    value: name,
    toV1ValueObject: () => ({ reference_value: name }),
    eq: (other) => other != null && other.type === "reference_value" && other.value === name,
    lt: () => false, lte: () => false, gt: () => false, gte: () => false,
  };
};

const port = Number(process.argv[2] || 8086);
const server = new FirestoreServer();
server.start(port).then(() => console.log(`firestore emulator listening on port ${port}`));
process.on("SIGTERM", () => { server.stop(); process.exit(0); });
