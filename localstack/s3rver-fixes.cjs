/**
 * Preloaded (`node --require`) into s3rver to fix one bug where it differs from S3: a ranged GET of an
 * empty object answers 206 with Content-Length 1 and no body, so the client waits and the connection
 * aborts. S3 answers 416 InvalidRange, which is what this makes s3rver do.
 * (s3rver's other quirk, DES-encrypted continuation tokens, needs `--openssl-legacy-provider` on Node 17+.)
 */
'use strict';
const FilesystemStore = require('s3rver/lib/stores/filesystem');

const originalGetObject = FilesystemStore.prototype.getObject;
FilesystemStore.prototype.getObject = async function getObject(bucket, key, options) {
  const object = await originalGetObject.call(this, bucket, key, options);
  if (object && object.range && object.content && Number(object.metadata['content-length']) === 0) {
    object.content.destroy();
    object.content = null; // the controller turns "range without content" into 416 InvalidRange
  }
  return object;
};
