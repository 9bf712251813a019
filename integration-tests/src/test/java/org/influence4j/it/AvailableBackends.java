package org.influence4j.it;

import com.google.inject.Guice;
import com.google.inject.Injector;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.influence4j.api.BackendProvider;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.registry.BackendDiscovery;
import org.influence4j.registry.InfluenceModule;
import org.influence4j.registry.InfluenceSettings;

/**
 * The backends the cross-backend tests run on: every backend that {@link java.util.ServiceLoader}
 * discovery finds available on the test class path and that actually loads (a backend whose natives
 * fail is skipped by discovery with one log line). A new backend module on the class path is picked
 * up without changing any test.
 *
 * <p>The system property {@value #PROPERTY} (comma-separated names) restricts the list, e.g. to run
 * one backend in its own surefire execution.
 */
final class AvailableBackends {

    /** System property with a comma-separated list of backend names to restrict the tests to. */
    static final String PROPERTY = "influence4j.it.backends";

    /** The reference backend that every other backend is compared with. */
    static final String REFERENCE = "djl-pytorch";

    private AvailableBackends() {
    }

    /** @return the names of the backends that load here, best rank first (a JUnit method source) */
    static List<String> names() {
        BackendDiscovery discovery = BackendDiscovery.load();
        String only = System.getProperty(PROPERTY, "").trim();
        Set<String> wanted = only.isEmpty() ? null
                : Arrays.stream(only.split(",")).map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toSet());
        return discovery.availableProviders().stream()
                .map(BackendProvider::name)
                .filter(name -> wanted == null || wanted.contains(name))
                .filter(name -> discovery.backend(name).isPresent())
                .toList();
    }

    /** @return an injector whose configuration selects {@code backend} and the given inversion */
    static Injector injector(String backend, InversionMethod method, double lambda) {
        return Guice.createInjector(new InfluenceModule(new InfluenceSettings(backend, method, lambda, 512)));
    }
}
