// CommonJS code in the consumer test: require('corpc') must give the same library as import.
const required = require('corpc');
import('corpc').then((imported) => {
  console.log(
    JSON.stringify({ same: required.RpcError === imported.RpcError, status: required.Status.INVALID_ARGUMENT }),
  );
});
