// A tiny PNG encoder for the tests (RGBA 8-bit, filter 0, CRCs from node:zlib): real images to upload,
// and the parts (chunks, the signature) to build damaged ones.
import zlib from 'node:zlib';

export function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([len, body, crc]);
}

export const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A valid PNG of w×h; seed varies the pixels; level 0 stores the rows uncompressed. */
export function png(w, h, { seed = 1, level = 9, text = null } = {}) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc(h * (1 + w * 4));
  for (let y = 0; y < h; y++) {
    const row = y * (1 + w * 4);
    for (let x = 0; x < w; x++) {
      const p = row + 1 + x * 4;
      raw[p] = (x * seed) & 255;
      raw[p + 1] = (y * 3 + seed) & 255;
      raw[p + 2] = ((x ^ y) + seed * 7) & 255;
      raw[p + 3] = 255;
    }
  }
  const parts = [SIGNATURE, chunk('IHDR', ihdr)];
  if (text !== null) parts.push(chunk('tEXt', Buffer.concat([Buffer.from('Comment\0'), Buffer.from(text)])));
  parts.push(chunk('IDAT', zlib.deflateSync(raw, { level })), chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}

