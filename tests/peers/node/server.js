// A grpc-js server with @grpc/proto-loader schemas and @grpc/reflection (the usual NestJS setup), for grpcdx's e2e tests.
//
//   node server.js [--listen 127.0.0.1:0]
//
// Serves grpc.testing.TestService with the interop semantics, peer.v1.Catalog (echoes messages
// with map fields), grpc.health.v1.Health, server reflection (v1 and v1alpha, from the
// proto-loader package definition) and channelz. Prints its address as the first stdout line.
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { ReflectionService } = require('@grpc/reflection');

const GRPC_PROTO_DIR = process.env.GRPC_PROTO_DIR || '/usr/share/grpc-proto';
const PROTOS = [
  'grpc/testing/test.proto',
  'grpc/health/v1/health.proto',
  'peer/v1/catalog.proto',
];

function parseArgs(argv) {
  const args = { listen: '127.0.0.1:0' };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--listen' && i + 1 < argv.length) {
      args.listen = argv[++i];
    } else {
      process.stderr.write(`usage: node server.js [--listen HOST:PORT] (unknown argument ${argv[i]})\n`);
      process.exit(2);
    }
  }
  return args;
}

const packageDefinition = protoLoader.loadSync(PROTOS, {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [GRPC_PROTO_DIR, path.join(__dirname, 'protos')],
});
const proto = grpc.loadPackageDefinition(packageDefinition);

// --- grpc.testing.TestService -----------------------------------------------------------

const ECHO_INITIAL = 'x-grpc-test-echo-initial';
const ECHO_TRAILING = 'x-grpc-test-echo-trailing-bin';

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Sends the echoed initial metadata now and returns the trailing metadata to end the call with.
function echoMetadata(call) {
  const initial = new grpc.Metadata();
  for (const value of call.metadata.get(ECHO_INITIAL)) initial.add(ECHO_INITIAL, value);
  call.sendMetadata(initial);
  const trailing = new grpc.Metadata();
  for (const value of call.metadata.get(ECHO_TRAILING)) trailing.add(ECHO_TRAILING, value);
  return trailing;
}

function payload(size) {
  return { type: 'COMPRESSABLE', body: Buffer.alloc(size || 0) };
}

// The status a request asks for with response_status, as a grpc-js error; null for OK.
function requestedStatus(request, trailing) {
  const status = request.response_status;
  if (!status || !status.code) return null;
  return { code: status.code, details: status.message, metadata: trailing };
}

function unaryCall(call, callback) {
  const trailing = echoMetadata(call);
  const error = requestedStatus(call.request, trailing);
  if (error) return callback(error);
  callback(null, { payload: payload(call.request.response_size) }, trailing);
}

function emptyCall(call, callback) {
  const trailing = echoMetadata(call);
  callback(null, {}, trailing);
}

// Writes the responses `parameters` ask for, waiting interval_us before each; false when the
// call was cancelled on the way.
async function writeResponses(call, parameters) {
  for (const parameter of parameters || []) {
    if (parameter.interval_us) await sleep(parameter.interval_us / 1000);
    if (call.cancelled) return false;
    call.write({ payload: payload(parameter.size) });
  }
  return true;
}

async function streamingOutputCall(call) {
  const trailing = echoMetadata(call);
  if (!(await writeResponses(call, call.request.response_parameters))) return;
  const error = requestedStatus(call.request, trailing);
  if (error) return call.emit('error', error);
  call.end(trailing);
}

function streamingInputCall(call, callback) {
  const trailing = echoMetadata(call);
  let total = 0;
  call.on('data', (request) => {
    total += request.payload && request.payload.body ? request.payload.body.length : 0;
  });
  call.on('end', () => callback(null, { aggregated_payload_size: total }, trailing));
  call.on('error', () => {});  // a cancelled client stream must not crash the server
}

function fullDuplexCall(call) {
  const trailing = echoMetadata(call);
  let chain = Promise.resolve(true);  // responses go out in request order, intervals and all
  let failed = false;
  call.on('data', (request) => {
    chain = chain.then(async (open) => {
      if (!open || failed) return false;
      if (!(await writeResponses(call, request.response_parameters))) return false;
      const error = requestedStatus(request, trailing);
      if (error) {
        failed = true;
        call.emit('error', error);
        return false;
      }
      return true;
    });
  });
  call.on('end', () => {
    chain.then((open) => {
      if (open && !failed && !call.cancelled) call.end(trailing);
    });
  });
}

function halfDuplexCall(call) {
  const trailing = echoMetadata(call);
  const requests = [];
  call.on('data', (request) => requests.push(request));
  call.on('end', async () => {
    for (const request of requests) {
      if (!(await writeResponses(call, request.response_parameters))) return;
    }
    call.end(trailing);
  });
}

// --- peer.v1.Catalog --------------------------------------------------------------------

function putItems(call, callback) {
  const items = call.request.items_by_sku || {};
  callback(null, { items_by_sku: items, count: Object.keys(items).length });
}

function getItem(call, callback) {
  callback(null, call.request);
}

// --- grpc.health.v1.Health -------------------------------------------------------------

const HEALTH = {
  '': 'SERVING',
  'grpc.testing.TestService': 'SERVING',
  'peer.v1.Catalog': 'SERVING',
};

function healthCheck(call, callback) {
  const status = HEALTH[call.request.service];
  if (!status) return callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
  callback(null, { status });
}

function healthWatch(call) {
  call.write({ status: HEALTH[call.request.service] || 'SERVICE_UNKNOWN' });
  call.on('cancelled', () => call.end());
}

// --- the server -------------------------------------------------------------------------

function main() {
  const args = parseArgs(process.argv.slice(2));
  const server = new grpc.Server();
  server.addService(proto.grpc.testing.TestService.service, {
    EmptyCall: emptyCall,
    UnaryCall: unaryCall,
    CacheableUnaryCall: unaryCall,
    StreamingOutputCall: streamingOutputCall,
    StreamingInputCall: streamingInputCall,
    FullDuplexCall: fullDuplexCall,
    HalfDuplexCall: halfDuplexCall,
  });
  server.addService(proto.peer.v1.Catalog.service, { PutItems: putItems, GetItem: getItem });
  server.addService(proto.grpc.health.v1.Health.service, { Check: healthCheck, Watch: healthWatch });
  new ReflectionService(packageDefinition).addToServer(server);
  grpc.addAdminServicesToServer(server);

  server.bindAsync(args.listen, grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) {
      process.stderr.write(`server.js: cannot listen on ${args.listen}: ${error.message}\n`);
      process.exit(1);
    }
    const host = args.listen.slice(0, args.listen.lastIndexOf(':'));
    process.stdout.write(`${host}:${port}\n`);
  });
  const stop = () => {
    server.forceShutdown();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
