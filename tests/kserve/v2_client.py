"""Run in the serving environment: call a V2 endpoint with KServe's own InferenceRESTClient.

A standard V2 client this project does not write, used unmodified. Usage:
python v2_client.py BASE_URL MODEL INPUTS_JSON   (inputs: [{"name", "datatype", "data"}, ...])
Prints {output name: {"shape", "data"}} as JSON.
"""

import asyncio
import json
import sys

import numpy as np

from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig


async def main() -> None:
    """Build an InferRequest from numpy arrays and print the response's outputs."""
    base_url, model, inputs_file = sys.argv[1], sys.argv[2], sys.argv[3]
    inputs = []
    for spec in json.loads(open(inputs_file).read()):
        dtype = object if spec["datatype"] == "BYTES" else np.float32
        array = np.array(spec["data"], dtype=dtype)
        tensor = InferInput(spec["name"], list(array.shape), spec["datatype"])
        tensor.set_data_from_numpy(array, binary_data=False)
        inputs.append(tensor)
    client = InferenceRESTClient(RESTConfig(protocol="v2", retries=1))
    response = await client.infer(base_url, InferRequest(model_name=model, infer_inputs=inputs), model_name=model)
    print(json.dumps({o.name: {"shape": list(o.shape), "data": o.as_numpy().tolist()} for o in response.outputs},
                     default=lambda b: b.decode() if isinstance(b, bytes) else str(b)))
    await client.close()


if __name__ == "__main__":
    asyncio.run(main())
