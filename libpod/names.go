package libpod

import (
	"math/rand/v2"
)

// Random names in docker's and podman's adjective_surname style.
var (
	adjectives = []string{"admiring", "agitated", "amazing", "angry", "awesome", "blissful", "bold", "brave",
		"busy", "charming", "clever", "compassionate", "competent", "confident", "cool", "cranky", "dazzling",
		"determined", "distracted", "dreamy", "eager", "ecstatic", "elastic", "elated", "elegant", "epic",
		"exciting", "fervent", "festive", "focused", "friendly", "frosty", "funny", "gallant", "gifted",
		"goofy", "gracious", "great", "happy", "hardcore", "heuristic", "hopeful", "hungry", "infallible",
		"inspiring", "intelligent", "interesting", "jolly", "jovial", "keen", "kind", "laughing", "loving",
		"lucid", "magical", "modest", "musing", "mystifying", "naughty", "nervous", "nice", "nifty",
		"nostalgic", "objective", "optimistic", "peaceful", "pedantic", "pensive", "practical", "priceless",
		"quirky", "quizzical", "recursing", "relaxed", "reverent", "romantic", "sad", "serene", "sharp",
		"silly", "sleepy", "stoic", "strange", "stupefied", "suspicious", "sweet", "tender", "thirsty",
		"trusting", "unruffled", "upbeat", "vibrant", "vigilant", "vigorous", "wizardly", "wonderful",
		"xenodochial", "youthful", "zealous", "zen"}
	surnames = []string{"albattani", "allen", "almeida", "archimedes", "ardinghelli", "babbage", "banach",
		"bardeen", "bartik", "bassi", "bell", "benz", "bhabha", "black", "blackwell", "bohr", "booth",
		"borg", "bose", "boyd", "brahmagupta", "brattain", "brown", "carson", "cerf", "chandrasekhar",
		"clarke", "colden", "cori", "cray", "curie", "darwin", "davinci", "dijkstra", "dubinsky", "easley",
		"einstein", "elion", "engelbart", "euclid", "euler", "fermat", "fermi", "feynman", "franklin",
		"galileo", "gates", "goldberg", "goldstine", "goldwasser", "golick", "goodall", "hamilton",
		"hawking", "heisenberg", "hermann", "hodgkin", "hoover", "hopper", "hugle", "hypatia", "jang",
		"jennings", "jepsen", "joliot", "jones", "kalam", "kare", "keller", "khorana", "kilby", "kirch",
		"knuth", "kowalevski", "lalande", "lamarr", "lamport", "leakey", "leavitt", "lewin", "lichterman",
		"liskov", "lovelace", "lumiere", "mahavira", "mayer", "mccarthy", "mcclintock", "mclean",
		"meitner", "mestorf", "mirzakhani", "morse", "murdock", "napier", "newton", "nightingale", "nobel",
		"noether", "northcutt", "noyce", "panini", "pare", "pasteur", "payne", "perlman", "pike", "poincare",
		"poitras", "ptolemy", "raman", "ramanujan", "ride", "ritchie", "roentgen", "rosalind", "saha",
		"sammet", "shaw", "shirley", "shockley", "sinoussi", "snyder", "spence", "stallman", "stonebraker",
		"swanson", "swartz", "swirles", "tesla", "thompson", "torvalds", "turing", "varahamihira",
		"visvesvaraya", "volhard", "wescoff", "williams", "wilson", "wing", "wozniak", "wright", "yalow",
		"yonath"}
)

func randomName() string {
	return adjectives[rand.IntN(len(adjectives))] + "_" + surnames[rand.IntN(len(surnames))]
}
