const crypto = require("crypto");

// True if `header` (X-Jimu-Hmac-SHA256) signs `rawBody`, the bytes exactly as received.
function verifyJimuWebhook(secret, rawBody, header) {
  const expected = Buffer.from(crypto.createHmac("sha256", secret).update(rawBody).digest("base64"));
  const given = Buffer.from(header || "");
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

module.exports = { verifyJimuWebhook };

// node verify.js SECRET BODYFILE HEADER: exits 0 if the signature is valid, 1 if not.
if (require.main === module) {
  const [secret, bodyFile, header] = process.argv.slice(2);
  const rawBody = require("fs").readFileSync(bodyFile);
  process.exit(verifyJimuWebhook(secret, rawBody, header) ? 0 : 1);
}
