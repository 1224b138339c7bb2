export default async function globalTeardown() {
  await globalThis.consultStub?.stop();
}
