// usermock as a Testcontainers GenericContainer for JUnit 5 (Java 17+).
// Copy into your test sources; needs org.testcontainers:testcontainers and
// Docker. Not run in usermock's own CI (no Docker engine there): the admin
// paths it uses are checked against the admin OpenAPI document instead.
package com.example.usermock;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.UUID;

import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

public class UsermockContainer extends GenericContainer<UsermockContainer> {
    public static final String SESSION_HEADER = "X-Usermock-Session";
    private final HttpClient http = HttpClient.newHttpClient();

    public UsermockContainer() {
        this("ghcr.io/usermock/usermock:0.1");
    }

    public UsermockContainer(String image) {
        super(DockerImageName.parse(image));
        withExposedPorts(8080);
        // Ready once it prints its listening line (stdout carries nothing else).
        waitingFor(Wait.forLogMessage(".*usermock listening on .*\\n", 1));
    }

    /** The server's root URL as the host sees it. */
    public String rootUrl() {
        return "http://" + getHost() + ":" + getMappedPort(8080);
    }

    /** The base URL a client of the vendor gets, e.g. rootUrl() + "/relesys/api/v1.3". */
    public String apiBase(String vendor) throws Exception {
        String health = get("/__admin/health", null);
        // {"api_bases":{"activity":"/activity/v2",...}}: a JSON library of
        // your choice reads it; a plain search keeps this file dependency-free.
        String key = "\"" + vendor + "\":\"";
        int at = health.indexOf(key, health.indexOf("\"api_bases\""));
        if (at < 0) throw new IllegalArgumentException("no vendor named " + vendor);
        int start = at + key.length();
        return rootUrl() + health.substring(start, health.indexOf('"', start));
    }

    /** A fresh session id for one test: send it as X-Usermock-Session. */
    public String newSession() {
        return "jvm-" + UUID.randomUUID();
    }

    public void reset(String session) throws Exception {
        post("/__admin/reset", session, "{}");
    }

    public void activate(String session, String scenario) throws Exception {
        post("/__admin/scenarios/" + scenario + "/activate", session, "{}");
    }

    /** How many of the session's requests match, e.g. {"vendor":"activity","method":"PATCH"}. */
    public long count(String session, String matcherJson) throws Exception {
        String answer = post("/__admin/requests/count", session, matcherJson);
        return Long.parseLong(answer.replaceAll("[^0-9]", ""));
    }

    private String get(String path, String session) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(rootUrl() + path)).GET();
        if (session != null) request.header(SESSION_HEADER, session);
        return send(request.build());
    }

    private String post(String path, String session, String json) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(rootUrl() + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json));
        if (session != null) request.header(SESSION_HEADER, session);
        return send(request.build());
    }

    private String send(HttpRequest request) throws Exception {
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            throw new IllegalStateException(request.uri() + " answered " + response.statusCode() + ": " + response.body());
        }
        return response.body();
    }
}
