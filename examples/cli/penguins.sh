# Your own data, with the command: train on a table, evaluate, predict by class name, export to ONNX.
#   npm install webgpu-mlp webgpu vega-datasets && sh penguins.sh
set -e
data=node_modules/vega-datasets/data/penguins.json
npx webgpu-mlp train "$data" --target Species --missing drop --out penguins.safetensors
npx webgpu-mlp evaluate penguins.safetensors "$data" --missing drop
npx webgpu-mlp predict penguins.safetensors "$data" --missing drop --keep Species --out predictions.csv
npx webgpu-mlp export penguins.safetensors --onnx penguins.onnx
