package jwt

import (
	"strings"
	"unicode"
)

// base is the built-in list of HMAC secrets seen in the wild: library and
// framework defaults, documentation and tutorial examples, and common words.
// Each group names where its secrets come from. Mutations (below) expand it.
var base = []struct {
	source  string
	secrets []string
}{
	{"jwt.io debugger and RFC 7515/7519 examples", []string{
		"your-256-bit-secret", "your-384-bit-secret", "your-512-bit-secret", "secret", "your_secret", "your-secret",
	}},
	{"Node.js jsonwebtoken / express-jwt / passport-jwt READMEs and tutorials", []string{
		"shhhhh", "shhhhhared-secret", "keyboard cat", "secretOrPrivateKey", "secretKey", "secret_key", "secret-key",
		"mysecret", "my_secret", "my-secret", "mysecretkey", "my_secret_key", "my-secret-key", "MySecretKey",
		"jwtSecret", "jwt_secret", "jwt-secret", "JWT_SECRET", "jwtsecret", "jwtSecretKey", "jwt_secret_key",
		"TOKEN_SECRET", "ACCESS_TOKEN_SECRET", "REFRESH_TOKEN_SECRET", "token_secret", "tokensecret", "accessTokenSecret",
		"refreshTokenSecret", "your_jwt_secret", "your-jwt-secret", "yourjwtsecret", "YOUR_SECRET_KEY", "your_secret_key",
		"your-secret-key", "yoursecretkey", "secretkey", "SECRET_KEY", "SECRET", "supersecret", "super-secret",
		"super_secret", "supersecretkey", "super-secret-key", "super_secret_key", "topsecret", "top-secret", "top_secret",
		"thisismysecret", "this_is_my_secret", "this-is-my-secret", "thisisasecret", "this_is_a_secret", "this-is-a-secret",
		"s3cr3t", "s3cret", "secr3t", "5ecret", "secret123", "secret1234", "secretpassword", "mysupersecret",
		"mysupersecretkey", "verysecret", "verysecretkey", "notsosecret", "notasecret", "not-a-secret", "nosecret",
	}},
	{"Python: Flask, Flask-JWT-Extended, Django, FastAPI docs and tutorials", []string{
		"super-secret", "change-this", "change-me", "changeme", "change_me", "changethis", "change-this-secret",
		"dev", "development", "dev-secret", "dev_secret", "devsecret", "development-secret", "secret-dev",
		"09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7", "your-secure-secret", "insecure",
		"django-insecure", "flask-secret", "flasksecret", "fastapi", "fastapi-secret", "SECRET_KEY_HERE",
		"hard to guess string", "you-will-never-guess", "a-very-secret-key", "not-so-secret", "random-secret",
	}},
	{"Java/Spring, .NET and Go tutorials", []string{
		"mySecretKey", "mySecret", "secretKey123", "JwtSecretKey", "jwtSigningKey", "signingKey", "signing-key",
		"signing_key", "SigningKey", "my-very-secret-key", "my_very_secret_key", "spring-secret", "springboot",
		"ThisIsMySecretKey", "ThisIsASecretKey", "ThisIsMySuperSecretKey", "SuperSecretKey", "SuperSecretKey123",
		"SecretKeyForJWT", "jwt-signing-secret", "my-256-bit-secret", "my-32-character-ultra-secure-and-ultra-long-secret",
		"mysecretkey12345", "1234567890123456", "12345678901234567890123456789012", "golang", "gosecret",
	}},
	{"framework and platform placeholders left in config", []string{
		"default", "defaultsecret", "default-secret", "default_secret", "DEFAULT_SECRET", "placeholder", "replace-me",
		"replaceme", "REPLACE_ME", "TODO", "todo", "fixme", "test", "testing", "test-secret", "test_secret",
		"testsecret", "testkey", "test-key", "example", "example-secret", "sample", "demo", "demo-secret", "local",
		"localhost", "staging", "prod", "production", "qa", "sandbox", "APP_SECRET", "app_secret", "appsecret",
		"app-secret", "API_SECRET", "api_secret", "apisecret", "api-secret", "api_key", "apikey", "api-key",
		"client_secret", "clientsecret", "auth_secret", "authsecret", "auth-secret", "session_secret", "sessionsecret",
		"cookie_secret", "encryption_key", "privatekey", "private_key", "private-key", "private", "public", "key",
		"jwt", "JWT", "jwtkey", "jwt_key", "jwt-key", "token", "tokens", "HS256", "hs256", "HMAC", "hmac", "hmacsecret",
		"secret_key_base", "SECRET_KEY_BASE", "NEXTAUTH_SECRET", "nextauth", "strapi", "parse", "keystone", "ghost",
	}},
	{"common passwords (also used as secrets)", []string{
		"password", "Password", "passw0rd", "p@ssw0rd", "P@ssw0rd", "123456", "1234567", "12345678", "123456789",
		"1234567890", "qwerty", "qwertyuiop", "abc123", "abcdef", "abcd1234", "letmein", "welcome", "admin",
		"administrator", "root", "toor", "master", "guest", "login", "access", "iloveyou", "monkey", "dragon",
		"sunshine", "princess", "football", "baseball", "shadow", "superman", "batman", "trustno1", "hello",
		"helloworld", "hello-world", "pass", "pass123", "password1", "password123", "changeit", "default123",
		"111111", "000000", "654321", "7777777", "asdfgh", "zxcvbn", "q1w2e3r4", "1q2w3e4r", "iloveu", "openup",
	}},
	{"product and company words", []string{
		"company", "companysecret", "startup", "backend", "frontend", "server", "service", "microservice", "gateway",
		"auth", "authentication", "authorization", "identity", "user", "users", "account", "accounts", "platform",
		"api", "myapi", "my-api", "restapi", "rest-api", "graphql", "mobile", "webapp", "web", "portal", "dashboard",
		"saas", "tenant", "tenants", "multitenant", "billing", "payments", "shop", "store", "ecommerce", "crm",
		"erp", "invoice", "invoices", "ledger", "bank", "banking", "finance", "health", "medical", "school",
	}},
}

// suffixes are appended to every base secret and case variant.
var suffixes = []string{"", "1", "12", "123", "1234", "12345", "!", "!!", "@", "#", "0", "01", "007",
	"2019", "2020", "2021", "2022", "2023", "2024", "2025", "2026",
	"_dev", "-dev", "_prod", "-prod", "_test", "-test", "_key", "-key", "_secret", "-secret", "_jwt", "-jwt"}

// Wordlist is the built-in candidates: base secrets × case variants × suffixes.
type Wordlist struct {
	words []string
}

// BuiltIn returns the built-in wordlist (deduplicated base words and their case variants).
func BuiltIn() *Wordlist {
	seen := map[string]bool{}
	var words []string
	for _, g := range base {
		for _, s := range g.secrets {
			for _, v := range []string{s, strings.ToLower(s), strings.ToUpper(s), title(s)} {
				if !seen[v] {
					seen[v] = true
					words = append(words, v)
				}
			}
		}
	}
	return &Wordlist{words: words}
}

func title(s string) string {
	if s == "" {
		return s
	}
	r := []rune(strings.ToLower(s))
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// Len is the number of candidates.
func (w *Wordlist) Len() int { return len(w.words) * len(suffixes) }

// At appends candidate i to buf. Suffixes vary slowest, so the plain words come first.
func (w *Wordlist) At(i int, buf []byte) []byte {
	buf = append(buf, w.words[i%len(w.words)]...)
	return append(buf, suffixes[i/len(w.words)]...)
}

// BaseCount is how many base secrets the list starts from.
func BaseCount() int {
	n := 0
	for _, g := range base {
		n += len(g.secrets)
	}
	return n
}
