package org.influence4j.api.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.influence4j.api.DType;
import org.influence4j.api.data.Batch;
import org.junit.jupiter.api.Test;

/** The layer graph: JSON forms, shape inference, parameter layout, and its errors. */
class ModelGraphTest {

    /** The Fashion-MNIST CNN of the real-models issue, in the sequential shorthand. */
    static final String CNN = """
            {"format": 2, "input": {"shape": [1, 28, 28]},
             "layers": [{"op": "conv2d", "in_channels": 1, "out_channels": 8, "kernel_size": 5},
                        {"op": "relu"}, {"op": "max_pool2d", "kernel_size": 2},
                        {"op": "conv2d", "in_channels": 8, "out_channels": 16, "kernel_size": 5},
                        {"op": "relu"}, {"op": "max_pool2d", "kernel_size": 2}, {"op": "flatten"},
                        {"op": "dense", "in_features": 256, "out_features": 32}, {"op": "tanh"},
                        {"op": "dense", "in_features": 32, "out_features": 10}],
             "loss": "softmax_cross_entropy", "dtype": "float32"}""";

    @Test
    void theFashionCnnHasPyTorchNamesShapesAndCount() {
        ModelSpec spec = ModelSpec.fromJson(CNN);
        assertTrue(spec.isGraph());
        assertEquals(11_978, spec.numParameters());
        assertEquals(784, spec.inputDim());
        assertEquals(10, spec.outputDim());
        List<ParameterInfo> layout = spec.parameterLayout();
        assertEquals(List.of("0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias", "9.weight", "9.bias"),
                layout.stream().map(ParameterInfo::name).toList());
        assertArrayEquals(new long[] {16, 8, 5, 5}, layout.get(2).shape());
        assertArrayEquals(new long[] {16, 4, 4}, spec.graph().shapes().get("5"));
        spec.graph().shapes().get("5")[0] = 99;
        assertArrayEquals(new long[] {16, 4, 4}, spec.graph().shapes().get("5"), "shapes() hands out copies");
        assertEquals(spec, ModelSpec.fromJson(spec.toJson()), "JSON round trip");
        assertEquals(DType.FLOAT64, spec.withDType(DType.FLOAT64).dtype());
    }

    @Test
    void formatOneSpecsStillLoadAndGeluNeedsFormatTwo() {
        ModelSpec old = ModelSpec.fromJson("{\"inputDim\": 4, \"layers\": [{\"type\": \"dense\", \"units\": 3}],"
                + " \"loss\": \"mse\", \"dtype\": \"float64\"}");
        assertFalse(old.isGraph());
        assertEquals(15, old.numParameters());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.fromJson(
                "{\"inputDim\": 4, \"layers\": [{\"type\": \"dense\", \"units\": 3}, {\"type\": \"activation\","
                        + " \"name\": \"gelu\"}, {\"type\": \"dense\", \"units\": 2}], \"loss\": \"mse\"}"));
        assertTrue(e.getMessage().contains("gelu needs a format-2 layer graph"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.fromJson("{\"inputDim\": 4294967360,"
                + " \"layers\": [{\"type\": \"dense\", \"units\": 3}], \"loss\": \"mse\"}"));
        assertTrue(e.getMessage().contains("'inputDim' must be an integer that fits in 32 bits"), e.getMessage());
    }

    @Test
    void shapesThatDoNotChainNameTheNodeAndBothShapes() {
        String bad = CNN.replace("\"in_features\": 256", "\"in_features\": 250");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.fromJson(bad));
        assertEquals("node '7' (dense): takes in_features=250 on the last axis but its input has shape [256]",
                e.getMessage());
        String conv = CNN.replace("\"in_channels\": 8", "\"in_channels\": 6");
        e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.fromJson(conv));
        assertEquals("node '3' (conv2d): takes [6, H, W] but its input has shape [8, 12, 12]", e.getMessage());
    }

    @Test
    void residualsEmbeddingsAndUnknownsAreChecked() {
        String add = """
                {"format": 2, "input": {"shape": [4]}, "nodes": [
                  {"name": "a", "op": "dense", "in_features": 4, "out_features": 3},
                  {"name": "b", "op": "dense", "in_features": 3, "out_features": 2},
                  {"name": "sum", "op": "add", "inputs": ["a", "b"]}], "loss": "mse"}""";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.fromJson(add));
        assertEquals("node 'sum' (add): adds outputs of different shapes [3] and [2]", e.getMessage());
        String ids = """
                {"format": 2, "input": {"shape": [5], "dtype": "int64"}, "nodes": [
                  {"name": "fc", "op": "dense", "in_features": 5, "out_features": 2}], "loss": "mse"}""";
        e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.fromJson(ids));
        assertTrue(e.getMessage().contains("only embedding nodes may read them"), e.getMessage());
        String unknown = CNN.replace("\"op\": \"tanh\"", "\"op\": \"swish\"");
        e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.fromJson(unknown));
        assertTrue(e.getMessage().startsWith("model spec: layers[8].op 'swish' is unknown"), e.getMessage());
        String typo = CNN.replace("\"kernel_size\": 5}", "\"kernal_size\": 5, \"kernel_size\": 5}");
        e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.fromJson(typo));
        assertTrue(e.getMessage().contains("unknown attribute 'kernal_size'"), e.getMessage());
        String huge = CNN.replace("\"out_channels\": 8", "\"out_channels\": 4294967304");
        e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.fromJson(huge));
        assertTrue(e.getMessage().contains("must be an integer that fits in 32 bits"), e.getMessage());
    }

    @Test
    void batchNormBuffersAreValidatedAndTokenIdsChecked() {
        ModelGraph g = ModelSpec.fromJson("""
                {"format": 2, "input": {"shape": [3], "dtype": "int64"}, "nodes": [
                  {"name": "emb", "op": "embedding", "num_embeddings": 7, "embedding_dim": 2},
                  {"name": "bn", "op": "batch_norm", "num_features": 3},
                  {"name": "pool", "op": "mean", "axis": 0},
                  {"name": "fc", "op": "dense", "in_features": 2, "out_features": 2}],
                 "loss": "softmax_cross_entropy", "dtype": "float64"}""").graph();
        assertArrayEquals(new double[] {1, 1, 1}, g.buffer("bn.running_var"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> g.withBuffers(Map.of("bn.running_var", new double[] {1, -1, 1})));
        assertTrue(e.getMessage().contains("running variances non-negative"), e.getMessage());
        ModelSpec spec = ModelSpec.of(g);
        e = assertThrows(IllegalArgumentException.class,
                () -> spec.validate(new Batch(new double[] {1, 2, 7}, 3, new double[] {0}, 1), "train"));
        assertEquals("train: token id x[0][2]=7.0 is not an id in [0, 7) of the model's embedding", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> spec.validate(new Batch(new double[] {1, 2.5, 3}, 3, new double[] {0}, 1), "train"));
        assertTrue(e.getMessage().startsWith("train: token id x[0][1]=2.5"), e.getMessage());
    }
}
