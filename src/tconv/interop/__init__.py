"""Other frameworks' conventions: weight layouts of TensorFlow, Keras, JAX, ONNX and PyTorch
(:mod:`.layouts`), and Keras layers imported as tconv modules without TensorFlow (:mod:`.keras`)."""
