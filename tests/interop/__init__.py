"""Live conformance tests of tconv against TensorFlow, Keras, ONNX Runtime and JAX."""
