package org.influence4j.registry;

import org.influence4j.api.Backend;
import org.influence4j.api.BackendProvider;
import org.influence4j.registry.plugins.BackendPlugin;

/**
 * A {@link BackendProvider} found in a {@link BackendPlugin}: every call runs with the plugin's class
 * loader as the thread's context class loader, so that engines which discover their own parts
 * through it (DJL's engine providers, ND4J's backends) find them in the plugin.
 */
final class PluginBackendProvider implements BackendProvider {

    private final BackendProvider delegate;
    private final BackendPlugin plugin;

    PluginBackendProvider(BackendProvider delegate, BackendPlugin plugin) {
        this.delegate = delegate;
        this.plugin = plugin;
    }

    /** @return the plugin the provider was found in */
    BackendPlugin plugin() {
        return plugin;
    }

    /** @return the provider as the plugin made it */
    BackendProvider delegate() {
        return delegate;
    }

    @Override
    public String name() {
        return plugin.call(delegate::name);
    }

    @Override
    public int rank() {
        return plugin.call(delegate::rank);
    }

    @Override
    public boolean isAvailable() {
        return plugin.call(delegate::isAvailable);
    }

    @Override
    public Backend create() {
        return plugin.call(delegate::create);
    }

    @Override
    public String toString() {
        return delegate.getClass().getName() + " from " + plugin.folder();
    }
}
