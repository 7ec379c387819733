// Encrypt or decrypt with typage (npm "age-encryption"), an independent age
// implementation with post-quantum support, so the tests can check ours against it.
//   node typage.mjs keygen [pq|x25519]              -> identity on stdout
//   node typage.mjs recipient IDENTITY               -> recipient on stdout
//   node typage.mjs encrypt [--armor] RECIPIENT...   stdin -> stdout
//   node typage.mjs decrypt IDENTITY...              stdin -> stdout (armor auto-detected)
import * as age from "age-encryption";
import { readFileSync, writeSync } from "node:fs";

const [command, ...args] = process.argv.slice(2);
const input = () => new Uint8Array(readFileSync(0));
const output = (bytes) => {
  let done = 0;
  while (done < bytes.length) done += writeSync(1, bytes, done);
};

try {
  if (command === "keygen") {
    const id = args[0] === "x25519" ? await age.generateX25519Identity() : await age.generateHybridIdentity();
    output(new TextEncoder().encode(id + "\n"));
  } else if (command === "recipient") {
    output(new TextEncoder().encode((await age.identityToRecipient(args[0])) + "\n"));
  } else if (command === "encrypt") {
    const armor = args[0] === "--armor";
    const e = new age.Encrypter();
    for (const r of armor ? args.slice(1) : args) e.addRecipient(r);
    const ct = await e.encrypt(input());
    output(armor ? new TextEncoder().encode(age.armor.encode(ct)) : ct);
  } else if (command === "decrypt") {
    const d = new age.Decrypter();
    for (const i of args) d.addIdentity(i);
    let data = input();
    const head = new TextDecoder().decode(data.subarray(0, 64)).trimStart();
    if (head.startsWith("-----BEGIN")) data = age.armor.decode(new TextDecoder().decode(data));
    output(await d.decrypt(data));
  } else {
    throw new Error(`unknown command ${command}`);
  }
} catch (err) {
  process.stderr.write(`typage: ${err.message}\n`);
  process.exit(1);
}
