package org.influence4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.influence4j.api.model.ParameterInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.influence4j.api.DType;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ParameterFiles#read(Path, List)}: a safetensors {@code state_dict} read by the names of a
 * parameter layout (a TorchScript module's), buffers left out, a missing or misshaped parameter
 * named with the file.
 */
class ParameterFilesTest {

    private static final List<ParameterInfo> LAYOUT = List.of(new ParameterInfo("conv.weight", new long[] {2, 1, 1, 1},
            0, 0), new ParameterInfo("fc.bias", new long[] {3}, 2, 1));

    @TempDir
    Path dir;

    @Test
    void aStateDictLoadsByNameInTheLayoutsOrderWithoutItsBuffers() throws IOException {
        Map<String, HostArray> state = new LinkedHashMap<>();
        state.put("fc.bias", new HostArray(new double[] {3, 4, 5}, new long[] {3}, DType.FLOAT32));
        state.put("bn.running_mean", new HostArray(new double[] {9, 9}, new long[] {2}, DType.FLOAT32));
        state.put("conv.weight", new HostArray(new double[] {1, 2}, new long[] {2, 1, 1, 1}, DType.FLOAT32));
        Path file = dir.resolve("checkpoint.safetensors");
        SafeTensors.write(file, state, Map.of());
        assertArrayEquals(new double[] {1, 2, 3, 4, 5}, ParameterFiles.read(file, LAYOUT));

        state.put("fc.bias", new HostArray(new double[] {3, 4}, new long[] {2}, DType.FLOAT32));
        SafeTensors.write(file, state, Map.of());
        IOException misshaped = assertThrows(IOException.class, () -> ParameterFiles.read(file, LAYOUT));
        assertTrue(misshaped.getMessage().contains(file.toString()) && misshaped.getMessage().contains("'fc.bias'")
                && misshaped.getMessage().contains("[2]") && misshaped.getMessage().contains("[3]"),
                misshaped.getMessage());

        state.remove("fc.bias");
        SafeTensors.write(file, state, Map.of());
        IOException missing = assertThrows(IOException.class, () -> ParameterFiles.read(file, LAYOUT));
        assertTrue(missing.getMessage().contains(file.toString()) && missing.getMessage().contains("no tensor 'fc.bias'"),
                missing.getMessage());

        IOException npy = assertThrows(IOException.class, () -> ParameterFiles.read(dir.resolve("theta.npy"), LAYOUT));
        assertTrue(npy.getMessage().contains("theta.npy"), npy.getMessage());
    }

    @Test
    void parameterFilesRoundTripAndCheckTheSpec() throws IOException {
        ModelSpec spec = ModelSpec.builder(4).dense(3).activation(Activation.TANH).dense(2)
                .loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT64).build();
        double[] theta = spec.initialParameters(1);
        for (String name : new String[] {"p.safetensors", "p.npy"}) {
            Path f = dir.resolve(name);
            ParameterFiles.write(f, spec, theta, null);
            assertArrayEquals(theta, ParameterFiles.read(f, spec));
        }
        ModelSpec other = ModelSpec.builder(4).dense(2).loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT64).build();
        IOException e = assertThrows(IOException.class, () -> ParameterFiles.read(dir.resolve("p.safetensors"), other));
        assertTrue(e.getMessage().contains("p.safetensors"), e.getMessage());
        e = assertThrows(IOException.class, () -> ParameterFiles.read(dir.resolve("p.npy"), other));
        assertTrue(e.getMessage().contains("[10]"), e.getMessage());
        Files.writeString(dir.resolve("junk.safetensors"), "not a file");
        assertThrows(IOException.class, () -> ParameterFiles.read(dir.resolve("junk.safetensors"), spec));
        assertThrows(IOException.class, () -> ParameterFiles.read(dir.resolve("none.npy"), spec));
    }
}
