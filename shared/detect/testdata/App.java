// synthetic credentials drawn from a seeded PRNG for tests; none was ever issued
public class App {
    private static final String CREDS = "{\"id\":\"LTAI5tM7Oyf5TNS05kOY2oNz\",\n\"secret\":\"N2m1ElKncz8HkywhjpU05mc4J1WRcQ\"}";
    private static final String EXAMPLE = "LTAI4GFTgcR8m8cZQDTH****";

    public static void main(String[] args) {
        String id = System.getenv("ALIBABA_CLOUD_ACCESS_KEY_ID");
        System.out.println(CREDS.length() + id);
    }
}
