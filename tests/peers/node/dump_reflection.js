// Saves what a server's reflection (v1) sends for its services as a FileDescriptorSet, the files as sent.
//
//   node dump_reflection.js HOST:PORT OUT.protoset
//
// Asks for the file of every listed service and keeps each file once, in the order received.
'use strict';

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const GRPC_PROTO_DIR = process.env.GRPC_PROTO_DIR || '/usr/share/grpc-proto';

// A FileDescriptorSet is `repeated bytes file = 1`: each file is one length-delimited field 1.
function encodeSet(files) {
  const parts = [];
  for (const file of files) {
    const header = [0x0a];
    let n = file.length;
    while (n >= 0x80) {
      header.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    header.push(n);
    parts.push(Buffer.from(header), file);
  }
  return Buffer.concat(parts);
}

function main() {
  const [target, out] = process.argv.slice(2);
  if (!target || !out) {
    process.stderr.write('usage: node dump_reflection.js HOST:PORT OUT.protoset\n');
    process.exit(2);
  }
  const definition = protoLoader.loadSync('grpc/reflection/v1/reflection.proto', {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
    includeDirs: [GRPC_PROTO_DIR],
  });
  const { ServerReflection } = grpc.loadPackageDefinition(definition).grpc.reflection.v1;
  const client = new ServerReflection(target, grpc.credentials.createInsecure());
  const stream = client.ServerReflectionInfo({ deadline: Date.now() + 10000 });
  const files = new Map();
  let pending = 0;
  stream.on('data', (response) => {
    if (response.list_services_response) {
      for (const service of response.list_services_response.service) {
        pending++;
        stream.write({ file_containing_symbol: service.name });
      }
    } else if (response.file_descriptor_response) {
      for (const bytes of response.file_descriptor_response.file_descriptor_proto) {
        const key = bytes.toString('base64');
        if (!files.has(key)) files.set(key, bytes);
      }
    }
    if (!response.list_services_response && --pending === 0) stream.end();
  });
  stream.on('error', (error) => {
    process.stderr.write(`dump_reflection.js: ${error.message}\n`);
    process.exit(1);
  });
  stream.on('end', () => {
    fs.writeFileSync(out, encodeSet([...files.values()]));
    process.stdout.write(`${path.basename(out)}: ${files.size} files\n`);
    client.close();
  });
  stream.write({ list_services: '*' });
}

main();
