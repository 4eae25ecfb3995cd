/* A television talking in the room: text from a grammar of TV genres,
 * spoken by espeak-ng in several voices, laid out over room tone
 * (background_speech.h).
 *
 * Templates are plain text with {slot} for a pick from a slot list and
 * {a|b|c} for a pick among inline alternatives; both nest and are expanded
 * recursively. The grammar is checked (every slot named exists, braces
 * balance) before each generation, so a typo fails every run, not the one
 * seed that reaches it. */
#include "background_speech.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "speech_fixtures.h"

#define RATE VC_AUDIO_RATE
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
/* One sentence's text: the templates stay far below it. */
#define MAX_SENTENCE 1024
/* Nesting of slots and alternatives a template may use. */
#define MAX_DEPTH 6
/* Picks per role remembered so as not to repeat a template soon. */
#define RECENT_PICKS 12
/* Below this share of a sentence's peak, its ends count as silence. */
#define TRIM_FRACTION 0.01
/* The limiter: peaks above -6 dBFS are bent towards -1 dBFS. */
#define LIMIT_KNEE (32767.0 * 0.5)
#define LIMIT_CEILING (32767.0 * 0.891)

/* ---- the grammar: slots ------------------------------------------------- */

typedef struct {
    const char *name;
    const char *const *values;
    size_t n;
} slot;

#define SLOT(id, ...)                                                                              \
    static const char *const slot_##id[] = {__VA_ARGS__};

SLOT(name, "Sarah", "Tom", "Doctor Patel", "Maria", "James", "Aisha", "Kevin", "Linda", "Oliver",
     "Priya", "Marcus", "Helen", "Jack", "Emma", "Carlos", "Nina", "Frank", "Grace", "Samuel",
     "Rosa", "Dave", "Chloe", "Ben", "Yuki", "Omar", "Ruth", "Leo", "Fatima", "George", "Ivy")
SLOT(city, "Chicago", "Denver", "Boston", "Seattle", "Atlanta", "Phoenix", "Dallas", "Portland",
     "Miami", "Detroit", "Nashville", "San Diego", "Pittsburgh", "Minneapolis", "Baltimore",
     "Cleveland", "Austin", "Sacramento", "Kansas City", "Salt Lake City", "Leeds", "Glasgow",
     "Cardiff", "Dublin", "Toronto")
SLOT(region, "the Midwest", "the east coast", "the Pacific Northwest", "the Gulf coast",
     "the northern plains", "the valley", "the mountains", "the coast", "the southern counties",
     "the city centre", "the lake shore", "the highlands")
SLOT(official, "the mayor", "the governor", "the senator", "a spokesperson for the city",
     "the police chief", "the school board", "the transport secretary", "the health department",
     "the fire chief", "union leaders", "the city council", "the prime minister")
SLOT(topic, "the new bridge", "the budget", "the water supply", "school funding",
     "the housing plan", "the bus strike", "the summer festival", "the airport expansion",
     "road repairs", "the election", "the power cuts", "the new hospital", "the library closure",
     "the stadium deal", "the recycling scheme", "the rail link")
SLOT(place, "the hospital", "the old farm", "the station", "the bakery", "the bridge", "the lake",
     "the office", "the church", "the pub", "the harbour", "the school gates", "the car park",
     "the town hall", "the motel")
SLOT(day, "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
     "tomorrow", "the weekend")
SLOT(month, "January", "March", "April", "June", "July", "August", "October", "November",
     "December")
SLOT(clock, "six o'clock", "half past seven", "a quarter to nine", "ten fifteen", "midnight",
     "noon", "eleven thirty", "five forty-five", "three in the morning")
SLOT(num, "two", "three", "four", "five", "six", "seven", "eight", "ten", "twelve", "fifteen",
     "twenty", "thirty", "forty", "fifty", "a hundred", "two hundred", "a thousand")
SLOT(small, "two", "three", "four", "five", "six")
SLOT(pct, "5", "10", "12", "15", "20", "25", "30", "40", "50", "60", "70", "80")
SLOT(temp, "52", "58", "61", "64", "67", "70", "72", "75", "78", "81", "84", "88", "91")
SLOT(weather, "rain", "heavy showers", "sunshine", "thunderstorms", "snow", "fog", "drizzle",
     "a cold front", "strong winds", "clear skies", "sleet", "scattered showers", "hail")
SLOT(adj, "amazing", "incredible", "terrible", "wonderful", "ridiculous", "unbelievable",
     "fantastic", "lovely", "strange", "brilliant", "hilarious", "wild")
SLOT(team, "the Hawks", "the Rangers", "the Tigers", "the Comets", "the Wolves", "the Pirates",
     "the Falcons", "the Bears", "United", "City", "the Rovers", "the Stallions", "the Kings",
     "Athletic")
SLOT(player, "Johnson", "Martinez", "O'Brien", "Kowalski", "Nakamura", "Okafor", "Silva",
     "Fischer", "Duval", "Reyes", "Hughes", "Petrov", "Andersen", "Mensah", "Clarke", "Moreno")
SLOT(score, "nil", "one", "two", "three", "four")
SLOT(dish, "lasagne", "chicken curry", "a lemon tart", "banana bread", "mushroom risotto",
     "beef stew", "fish tacos", "pancakes", "apple pie", "vegetable soup", "roast chicken",
     "pad thai", "chocolate cake", "shepherd's pie", "garlic bread", "a Sunday roast")
SLOT(ingredient, "butter", "garlic", "two eggs", "plain flour", "brown sugar", "a pinch of salt",
     "olive oil", "fresh basil", "onions", "lemon juice", "double cream", "black pepper", "honey",
     "grated cheese", "chopped tomatoes", "cinnamon", "coconut milk", "fresh ginger")
SLOT(tvproduct, "the Miracle Mop", "the SliceMaster Pro", "the PowerBlend Ultra",
     "the Comfort Cloud pillow", "the EverSharp knife set", "the Glow Brush", "the FlexiHose",
     "the AirCrisp fryer", "the SteamQueen iron", "the NeverLost tracker", "the Vita Juicer",
     "the Dream Sleeper mattress", "the Spin Genie", "the TurboTan lamp")
SLOT(brand, "Sparkle", "Fresh Valley", "Golden Crust", "Zoom", "Crispo", "Northwind", "Pure Bliss",
     "Maxi Clean", "Sunny Farms", "Velvet")
SLOT(tvthing, "washing powder", "toothpaste", "breakfast cereal", "shampoo", "dog food",
     "car insurance", "coffee pods", "yoghurt", "phone plan", "air freshener")
SLOT(price, "nineteen ninety-nine", "twenty-nine ninety-five", "just nine ninety-nine",
     "forty-nine dollars", "three easy payments of fourteen ninety-nine", "under twenty dollars",
     "only thirty-nine ninety-nine", "half price", "fifty percent off")
SLOT(phone, "one eight hundred, five five five, two four six eight",
     "oh eight hundred, double four, seven nine two", "one eight hundred, shop now",
     "the number on your screen")
SLOT(colour, "red", "blue", "silver", "black", "white", "sky blue", "rose gold", "green")
SLOT(chore, "scrubbing floors", "tangled cables", "soggy chips", "lost keys", "creased shirts",
     "sleepless nights", "blunt knives", "dull hair")
SLOT(quizname, "Brain Box", "Take the Money", "The Big Question", "Lucky Streak")
SLOT(landmark, "the Eiffel Tower", "the Colosseum", "the Golden Gate Bridge",
     "the Sydney Opera House", "Big Ben", "the Space Needle")
SLOT(event, "the first moon landing happen", "the Berlin Wall fall", "the Titanic sink",
     "the first World Cup take place")
SLOT(job, "nurse", "bus driver", "teacher", "plumber", "dentist", "librarian", "chef",
     "software developer", "farmer")
SLOT(hobby, "gardening", "salsa dancing", "fishing", "knitting", "rock climbing",
     "birdwatching", "baking", "chess")
SLOT(relation, "your brother", "my mother", "the doctor", "his lawyer", "her sister",
     "the neighbour", "your father", "the detective", "our son")
SLOT(habitat, "the rainforest", "the frozen north", "the open ocean", "the savannah",
     "the desert", "these mountains", "the coral reef", "the wetlands")
SLOT(animal, "leopard", "penguin", "wolf", "humpback whale", "elephant", "otter", "eagle",
     "sea turtle", "snow monkey", "fox")
SLOT(animals, "wildebeest", "penguins", "salmon", "caribou", "flamingos", "elephants",
     "monarch butterflies", "whales")

static const slot slots[] = {
#define S(id) {#id, slot_##id, COUNT(slot_##id)}
    S(name),     S(city),      S(region),   S(official),  S(topic),   S(place),    S(day),
    S(month),    S(clock),     S(num),      S(small),     S(pct),     S(temp),     S(weather),
    S(adj),      S(team),      S(player),   S(score),     S(dish),    S(ingredient),
    S(tvproduct), S(brand),    S(tvthing),  S(price),     S(phone),   S(colour),   S(chore),
    S(quizname), S(landmark),  S(event),    S(job),       S(hobby),   S(relation), S(habitat),
    S(animal),   S(animals),
#undef S
};

/* ---- the grammar: genres ------------------------------------------------ */

static const char *const news_anchor[] = {
    "Good {evening|morning}, I'm {name}, and this is the {six|ten|eleven} o'clock news.",
    "Our top story {tonight|this morning}: {official} has announced a review of {topic}.",
    "In {city}, residents are still waiting for answers about {topic}.",
    "{official} said on {day} that there would be no further comment until the inquiry is "
    "complete.",
    "Police in {city} are asking anyone who was near {place} last night to come forward.",
    "Turning to the economy, where prices rose by {pct} percent over the last year.",
    "The vote on {topic} has been delayed {again|until next week|for a second time}.",
    "Thousands of people gathered in {city} {on Saturday|last night|this afternoon} to protest "
    "against {topic}.",
    "Let's go live now to our correspondent {name}, who is in {city}.",
    "Officials say work on {topic} could take {num} {weeks|months|years}.",
    "A new report says one in {small} households in {region} struggle to pay their energy bills.",
    "Shares in technology companies fell sharply on {day}.",
    "Coming up after the break: {the weather|the sport|a story that will warm your heart}.",
    "Firefighters were called to a warehouse in {city} just after {clock}.",
    "Nobody was seriously hurt, {official} confirmed.",
    "Scientists in {city} say they have made a breakthrough in battery research.",
    "Traffic on the {ring road|bypass|interstate} is moving slowly after an accident this morning.",
    "{official} will face questions from reporters {tomorrow|later today}.",
    "Critics say the plan for {topic} does not go far enough.",
    "That's all from us for now. Join us again at {clock}.",
    "The {museum|zoo|aquarium|concert hall} in {city} has reopened after a two-year renovation.",
    "A teacher from {city} has been named teacher of the year.",
    "Flights out of {city} were cancelled this morning because of {weather}.",
    "The trial is expected to last {small} weeks.",
    "And finally, a {cat|dog|parrot|tortoise} that went missing {small} years ago has been found "
    "{num} miles from home.",
    "Unemployment in {region} fell to its lowest level in a decade.",
    "{official} has resigned after weeks of pressure over {topic}.",
};
static const char *const news_reporter[] = {
    "Thank you. I'm standing outside {place} in {city}, where a crowd has been gathering since "
    "early this morning.",
    "People here tell me they feel let down by {official}.",
    "One resident told me, and I quote, this has been going on for far too long.",
    "The mood here is {tense|calm|hopeful|angry}, and we expect a statement within the hour.",
    "Behind me you can see the damage caused by last night's {weather}.",
    "Back to you in the studio.",
    "It's still not clear what happened, but investigators are on the scene.",
    "{official} arrived here about twenty minutes ago and has not spoken to the press.",
    "Local businesses say they have lost {num} thousand dollars this week alone.",
    "We'll be following this story throughout the day.",
    "Yes, that's right, the road will stay closed until at least {day}.",
};

static const char *const weather_lines[] = {
    "Let's take a look at the weather for the {week|weekend|day} ahead.",
    "{day} starts {cloudy|bright|grey|chilly|mild} across {region}, with {weather} moving in "
    "later.",
    "Temperatures will reach {temp} degrees in {city}, a little {above|below} average for the "
    "time of year.",
    "Overnight we'll see lows of around {temp} degrees, so you might want an extra blanket.",
    "There's a {pct} percent chance of {weather} by the afternoon.",
    "A weather warning is in place for {region} until {clock} {tomorrow|tonight}.",
    "Winds gusting up to {num} miles an hour along {region}.",
    "If you're heading out {tonight|this weekend}, don't forget your umbrella.",
    "High pressure builds in from the west, bringing {clear skies|drier air|sunshine} by {day}.",
    "It's going to be a {lovely|soggy|windy|frosty|sticky} one, I'm afraid.",
    "Here's the five day outlook: {weather} on {day}, then {weather} through to {day}.",
    "Pollen counts will be high, so hay fever sufferers take note.",
    "Fog could cause problems on the roads in {region} first thing.",
    "By the end of the week we're looking at temperatures in the {low|mid|high} seventies.",
    "That's the weather. Back to you, {name}.",
    "Sunrise tomorrow is at {clock}, and sunset at {clock}.",
    "The U V index will be {high|moderate|very high}, so do wear sunscreen.",
    "Those showers could turn heavy and thundery for a time.",
    "We had {num} millimetres of rain in {city} yesterday, a record for {month}.",
    "Snow on the higher ground, mainly above {small} thousand feet.",
    "So, {day}: {weather} in the morning, {weather} in the afternoon.",
};

static const char *const sports_play[] = {
    "And {player} picks it up on the left, looking for options.",
    "{player} shoots! {He scores|It's saved|Just wide|Off the post}!",
    "{team} lead by {score} to {score} with {num} minutes to play.",
    "What a pass from {player}!",
    "That's a yellow card for {player}, and he can have no complaints.",
    "Here comes {player}, past one, past two, still going!",
    "It's a corner to {team}.",
    "Into the box, headed clear, and {team} break quickly.",
    "The crowd here is on its feet!",
    "Free kick, about twenty-five yards out, and {player} stands over it.",
    "Oh, that is unbelievable! What a save!",
    "And that's the half time whistle.",
    "{player} goes down, and the referee says play on.",
    "A change for {team}: {player} comes off, {player} comes on.",
    "Three points would take {team} top of the table.",
    "A long ball forward, and {player} controls it beautifully.",
    "Penalty! The referee points to the spot!",
    "Full time here, and {team} have done it!",
    "{team} against {team}, and it's been {end to end|scrappy|thrilling} so far.",
    "{player} with the cross, and it's cleared for a throw in.",
    "{player} again, he's everywhere tonight.",
    "Great ball in from {player}, but nobody gambled at the far post.",
    "{small} minutes of added time here.",
    "It's {team} on the attack, {player} to {player}.",
    "Off the bar! {team} so close!",
    "And {player} is booked, his {second|third|fifth} of the season.",
};
static const char *const sports_pundit[] = {
    "Well, you have to say, {team} have been the better side.",
    "I thought that was a great decision by the referee.",
    "{player} has been superb this season, absolutely superb.",
    "Yes! Yes! That's what we've been waiting for!",
    "You can't give a player like that so much space.",
    "I played here for {small} seasons and I've never heard noise like it.",
    "They need to keep their shape now, no silly mistakes.",
    "That's a real blow for {team}, a real blow.",
    "Honestly, I'd take the draw right now if I were the manager.",
    "He'll be disappointed with that, he should have buried it.",
    "What a time to score, right before the break.",
    "The manager won't be happy with that defending.",
    "That's the difference between the top teams and the rest.",
    "Look at the replay, he's clearly onside.",
    "It's end to end stuff, isn't it?",
    "{player} will want that one back, he had all the time in the world.",
    "I said before the game, {team} look tired, and they look tired.",
    "If {team} hold on here, it's their {third|fourth|best} win in a row.",
    "You don't see {player} make many mistakes like that.",
    "The travelling fans from {city} are making themselves heard.",
    "That's {adj}, honestly, {adj}.",
    "Remember, {team} were {small} nil down at half time last week.",
    "Give {player} a yard and he'll punish you.",
};

static const char *const cooking_host[] = {
    "Today we're making {dish}, and it's much easier than you think.",
    "First, take {ingredient} and {ingredient}, and mix them in a large bowl.",
    "Preheat your oven to {three hundred and fifty|four hundred|two hundred} degrees.",
    "Now add {ingredient}, a little at a time, and keep stirring.",
    "Don't worry if it looks lumpy at this stage, that's completely normal.",
    "Let that simmer for about {num} minutes.",
    "You can use {ingredient} instead of {ingredient} if you prefer.",
    "Smell that! That's what we're after.",
    "While that's cooking, let's get on with the sauce.",
    "Season with {ingredient}, and taste as you go.",
    "My grandmother used to make {dish} every {day}.",
    "The secret is not to overwork the dough.",
    "Pop it in the fridge for at least {small} hours.",
    "And here's one I made earlier.",
    "Chop the {onions|carrots|celery|peppers|herbs} finely, like this.",
    "A good sharp knife makes all the difference in the kitchen.",
    "Slice it thinly and arrange it on a warm plate.",
    "If it sticks, just add a splash of water.",
    "Golden brown on the outside, soft in the middle. Perfect.",
    "Serves {small}, or {small} if you're really hungry.",
    "You'll find the full recipe on our website.",
    "Next week, {dish} in under {num} minutes.",
};
static const char *const cooking_guest[] = {
    "Oh, that smells wonderful.",
    "Can I try a bit? Mm, that's delicious.",
    "Do you always use {ingredient} in this?",
    "Yes, my kids love {dish}.",
    "How long does it keep in the freezer?",
    "I always burn mine. What am I doing wrong?",
    "That's so much quicker than I expected.",
    "Is it okay to use frozen {ingredient}?",
    "My {mother|husband|wife|neighbour} makes it with {ingredient}, is that wrong?",
    "Where do you buy your {ingredient}?",
    "Oh, I'd never have thought of adding {ingredient}.",
    "It looks just like the picture, {adj}.",
};

static const char *const talk_host[] = {
    "Welcome back to the show! My next guest needs no introduction.",
    "Please welcome {name}!",
    "So tell us, how did it all start?",
    "I heard you {ran a marathon|learned to fly|moved to {city}|wrote a book} last year. Is that "
    "true?",
    "What was it like working with {name}?",
    "Your new {film|album|book|series} comes out on {day}. What can we expect?",
    "Were you nervous?",
    "I have to ask, is it true about the {dog|boat|wedding|tattoo}?",
    "Ladies and gentlemen, {name}!",
    "We'll be right back after this.",
    "So what's next for you?",
    "Do you ever get recognised in the supermarket?",
    "And you said yes, just like that?",
    "That is {adj}.",
    "Let's take a look at a clip.",
    "Our audience has some questions for you.",
    "You grew up in {city}, didn't you?",
    "Tell us about the time you met {name}.",
    "Is it true you {can't swim|hate chocolate|once lived on a boat}?",
};
static const char *const talk_guest[] = {
    "Thank you, it's great to be here.",
    "Well, it was a complete accident, honestly.",
    "Yes, absolutely, I'd do it again tomorrow.",
    "No, no, that's a rumour my brother started.",
    "I grew up in {city}, so for me it was a big change.",
    "Working with {name} was a dream, so generous.",
    "I was terrified! My hands were shaking the whole time.",
    "My mother still thinks I should get a real job.",
    "We shot most of it in {city}, in the middle of {month}.",
    "Oh yes. Yes. Definitely yes.",
    "I said yes before they even finished the question.",
    "I can't tell you that, they'd kill me!",
    "It's about family, really, and second chances.",
    "I'd love to do a musical one day.",
    "People are so kind, they just want a photo.",
    "Right, exactly, that's what I keep telling everyone.",
};

static const char *const advert_announcer[] = {
    "Order now and get a second {tvproduct} absolutely free!",
    "Buy two, get one free, but only while stocks last.",
    "Call now to reorder your supply of {brand} {tvthing}.",
    "Yes! You heard that right, just {price}!",
    "Tired of {chore}? Then you need {tvproduct}.",
    "Operators are standing by. Call {phone}, now.",
    "Order in the next {num} minutes and we'll double your order.",
    "Don't wait, buy now and save {pct} percent.",
    "That's {price}, plus free delivery.",
    "Available in {colour}, {colour} and {colour}.",
    "Subscribe and save, and we'll reorder automatically every month.",
    "Add it to your basket today.",
    "Confirm your order online or by phone.",
    "This offer is not available in stores.",
    "But wait, there's more!",
    "Just say yes to a cleaner home.",
    "Terms and conditions apply. See website for details.",
    "{brand}. Because you deserve the best.",
    "New {brand} {tvthing}, now with {small} times the power.",
    "Buy one for yourself, and one for someone you love.",
    "Hurry, only {num} left in stock!",
    "The price goes up at midnight, so order today.",
    "Why pay more? Get {tvproduct} for just {price}.",
    "Visit your nearest {brand} store, or shop online.",
    "Pick up the phone and order yours now.",
    "Order two, and we'll send a third one free.",
    "It slices, it dices, it even makes curly fries!",
    "Money back guarantee if you're not completely satisfied.",
    "{brand} {tvthing}. Buy it once, and you'll buy it again.",
    "Say yes to {brand}!",
};
static const char *const advert_customer[] = {
    "I was sceptical at first, but now I use {tvproduct} every day.",
    "Yes! I ordered three!",
    "I bought one for my mum and she loves it.",
    "Wow, that's incredible value.",
    "It changed my life, honestly.",
    "I've already reordered twice.",
    "Can I order more than one?",
    "Yes, yes, and yes!",
    "My whole family uses it.",
    "I can't believe the price!",
    "It really works!",
};

static const char *const quiz_host[] = {
    "Welcome to {quizname}, the show where anything can happen!",
    "For {num} points, which city is home to {landmark}?",
    "Is that your final answer?",
    "Do you want to take the money, or play on?",
    "That is... correct!",
    "I'm sorry, the answer we were looking for was {city}.",
    "You have {small} lifelines left.",
    "Let's meet tonight's contestants.",
    "Contestant number {small}, {name}, tell us about yourself.",
    "Lock it in?",
    "Round {small}: general knowledge. Fingers on buzzers.",
    "Confirm your answer, please.",
    "In which year did {event}?",
    "Name something you might find in a kitchen.",
    "Our survey said...",
};
static const char *const quiz_contestant[] = {
    "Yes, final answer.",
    "Um, I think it's {city}?",
    "Can I phone a friend?",
    "I'll take the money, thank you.",
    "Yes! Yes! I knew it!",
    "Oh no, I always get that wrong.",
    "I'm a {job} from {city}, and I love {hobby}.",
    "Lock it in.",
    "I'd like to buy a vowel, please.",
    "Play on!",
    "Confirm. I'm sure.",
    "A {kettle|toaster|fridge|frying pan}?",
};

static const char *const drama_first[] = {
    "Where were you last night?",
    "You said you'd be home by {clock}.",
    "I saw you with {name} at {place}.",
    "Do you still love me?",
    "We need to talk about {relation}.",
    "I found the letter. All of it.",
    "Don't you dare walk away from me.",
    "It's over. I mean it this time.",
    "Did you tell {name}?",
    "Promise me you won't go back to {place}.",
    "The police came round asking about you.",
    "Say something. Anything.",
    "I never wanted any of this.",
};
static const char *const drama_second[] = {
    "Yes. I was there. Is that what you want to hear?",
    "It's not what it looks like.",
    "I can explain, just give me a minute.",
    "No. No, I won't.",
    "Of course I love you, you know I do.",
    "{name} knows everything.",
    "I had no choice, {relation} made me do it.",
    "Fine. Have it your way.",
    "I'm sorry. I'm so sorry.",
    "We can't keep doing this.",
    "Yes, I promise.",
    "Leave {relation} out of this.",
};

static const char *const documentary_lines[] = {
    "Here, in {habitat}, life is a constant struggle.",
    "The {animal} must find food before the {winter|dry season|storm} arrives.",
    "For weeks, the female has guarded her eggs.",
    "Few people have ever seen this behaviour.",
    "At dawn, the herd begins to move.",
    "Every year, millions of {animals} make this journey.",
    "It is a race against time.",
    "The young {animal} is learning to hunt.",
    "Beneath the surface lies an entirely different world.",
    "Only the strongest will survive until spring.",
    "These {animals} can travel up to {num} miles in a single day.",
    "Their numbers have fallen by {pct} percent since the nineteen seventies.",
    "Night falls, and {habitat} comes alive.",
    "Scientists have only recently begun to understand why.",
    "Patience. The hunter waits.",
    "The {animal} has not eaten for {small} weeks.",
    "In {month}, the {animals} return to {habitat}, as they have for thousands of years.",
    "A single mistake here could cost the {animal} its life.",
};

typedef struct {
    const char *name;
    const char *const *lead, *const *other; /* other NULL: a monologue */
    size_t n_lead, n_other;
    int rate_min, rate_max;   /* words a minute */
    int scene_min, scene_max; /* seconds */
    double level_min;         /* dBFS; the maximum is the fixture's */
    double word_rate;         /* chance a sentence gets a caller's word */
    int weight;               /* how often the channel shows it */
    int advert;               /* counted in advert_sentences */
} genre;

#define LEAD(a) .lead = a, .n_lead = COUNT(a)
#define OTHER(a) .other = a, .n_other = COUNT(a)
#define WORDS VC_TEST_BACKGROUND_WORD_RATE
#define QUIET VC_TEST_BACKGROUND_LEVEL_MIN_DBFS

static const genre genres[] = {
    {"news", LEAD(news_anchor), OTHER(news_reporter), .rate_min = 150, .rate_max = 180,
     .scene_min = 40, .scene_max = 110, .level_min = QUIET, .word_rate = WORDS, .weight = 14},
    {"weather", LEAD(weather_lines), .rate_min = 150, .rate_max = 175, .scene_min = 25,
     .scene_max = 60, .level_min = QUIET, .word_rate = WORDS, .weight = 7},
    {"sports", LEAD(sports_play), OTHER(sports_pundit), .rate_min = 170, .rate_max = 200,
     .scene_min = 40, .scene_max = 120, .level_min = QUIET, .word_rate = WORDS, .weight = 12},
    {"cooking", LEAD(cooking_host), OTHER(cooking_guest), .rate_min = 140, .rate_max = 170,
     .scene_min = 40, .scene_max = 110, .level_min = QUIET, .word_rate = WORDS, .weight = 9},
    {"talk show", LEAD(talk_host), OTHER(talk_guest), .rate_min = 150, .rate_max = 190,
     .scene_min = 40, .scene_max = 120, .level_min = QUIET, .word_rate = WORDS, .weight = 12},
    /* adverts: short, fast, loud, in breaks of 2-4, and the most shopping words */
    {"advert", LEAD(advert_announcer), OTHER(advert_customer), .rate_min = 170, .rate_max = 200,
     .scene_min = 15, .scene_max = 45, .level_min = -20.0,
     .word_rate = VC_TEST_BACKGROUND_ADVERT_WORD_RATE, .weight = 26, .advert = 1},
    {"quiz", LEAD(quiz_host), OTHER(quiz_contestant), .rate_min = 150, .rate_max = 185,
     .scene_min = 30, .scene_max = 90, .level_min = QUIET, .word_rate = WORDS, .weight = 9},
    {"drama", LEAD(drama_first), OTHER(drama_second), .rate_min = 140, .rate_max = 180,
     .scene_min = 30, .scene_max = 90, .level_min = QUIET, .word_rate = WORDS, .weight = 9},
    {"documentary", LEAD(documentary_lines), .rate_min = 140, .rate_max = 160, .scene_min = 30,
     .scene_max = 90, .level_min = QUIET, .word_rate = WORDS, .weight = 6},
};

/* espeak-ng voices and variants the speakers are drawn from. espeak-ng
 * finds a voice by its file name: British English is "en" (gmw/en), not
 * "en-gb", which only the command line's language lookup knows. */
static const char *const voices[] = {
    "en-us",         "en-us+m3",          "en-us+f2",  "en",           "en-us+f4",
    "en-gb-x-rp+m1", "en-gb-scotland+f3", "en-029+m2", "en-us-nyc+m7", "en+f1",
    "en-us+m5",      "en-gb-x-rp+f5",     "en-us+m1",  "en+m4",
};

/* Every voice loads: a missing one fails each run, not only the seeds
 * that happen to pick it. */
static vc_status check_voices(const char *wav_dir)
{
    for (size_t i = 0; i < COUNT(voices); i++) {
        vc_synthesiser_config c = {.mode = VC_SPEAK_WAV, .voice = voices[i], .pitch = 50,
                                   .volume = 100, .wav_dir = wav_dir};
        vc_synthesiser *s = NULL;
        vc_status rc = vc_synthesiser_new(&c, &s);
        vc_synthesiser_free(s);
        if (rc != VC_OK)
            return rc;
    }
    return VC_OK;
}

/* Put before a sentence now and then (OPENER_RATE), so that the lines
 * without slots do not always sound the same. */
static const char *const openers[] = {"Well,", "And", "Now,", "So,", "Right,", "Okay,",
                                      "Honestly,", "Look,", "You know,", "I mean,", "Of course,",
                                      "Again,", "Meanwhile,", "Anyway,", "Oh,", "See,"};
#define OPENER_RATE 0.2

/* Frames that carry a caller's word (@) before or after a sentence. */
static const char *const prefix_frames[] = {"@! ", "@, ", "@. ", "Yes, @. "};
static const char *const suffix_frames[] = {" @!", " @.", " That's @.", " Did you say @?",
                                            " @, @!"};

/* ---- generation --------------------------------------------------------- */

typedef struct {
    uint64_t state;
} prng;

/* splitmix64: small, fast, and the same sequence everywhere. */
static uint64_t prng_next(prng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static size_t prng_below(prng *r, size_t n)
{
    return n ? (size_t)(prng_next(r) % n) : 0;
}

static int prng_range(prng *r, int lo, int hi)
{
    return lo + (int)prng_below(r, (size_t)(hi - lo + 1));
}

static double prng_uniform(prng *r, double lo, double hi)
{
    return lo + (hi - lo) * (double)(prng_next(r) >> 11) / 9007199254740992.0;
}

typedef struct {
    vc_synthesiser *synth;
    const char *voice;
    int rate, pitch;
    double level_dbfs;
} speaker;

typedef struct {
    prng rng;
    const char *const *words;
    size_t n_words;
    vc_test_track track;
    vc_test_dir *wav_dir;
    FILE *script;
    vc_test_background_stats stats;
    /* recent template picks per genre and role, against repetition */
    const char *recent[COUNT(genres)][2][RECENT_PICKS]; /* newest first */
} generator;

typedef struct {
    char s[MAX_SENTENCE];
    size_t len;
} sentence;

static const slot *find_slot(const char *name, size_t len)
{
    for (size_t i = 0; i < COUNT(slots); i++)
        if (strlen(slots[i].name) == len && memcmp(slots[i].name, name, len) == 0)
            return &slots[i];
    return NULL;
}

/* Where the brace opened at t[0] closes; NULL when it does not. */
static const char *closing_brace(const char *t)
{
    int depth = 0;
    for (; *t; t++) {
        if (*t == '{')
            depth++;
        else if (*t == '}' && --depth == 0)
            return t;
    }
    return NULL;
}

static vc_status check_template(const char *t)
{
    int depth = 0;

    for (const char *p = t; *p; p++) {
        const char *end, *q;
        if (*p == '}' && --depth < 0)
            return vc_fail(VC_EINVAL, "background grammar: stray '}' in \"%s\"", t);
        if (*p != '{')
            continue;
        depth++;
        end = closing_brace(p);
        if (!end)
            return vc_fail(VC_EINVAL, "background grammar: unclosed '{' in \"%s\"", t);
        for (q = p + 1; q < end && *q != '|' && *q != '{'; q++)
            ;
        if (q == end && !find_slot(p + 1, (size_t)(end - p - 1)))
            return vc_fail(VC_EINVAL, "background grammar: unknown slot {%.*s} in \"%s\"",
                           (int)(end - p - 1), p + 1, t);
    }
    return VC_OK;
}

/* Every template and slot value is well formed and names known slots. */
static vc_status check_grammar(void)
{
    vc_status rc;
    for (size_t g = 0; g < COUNT(genres); g++) {
        for (size_t i = 0; i < genres[g].n_lead; i++)
            if ((rc = check_template(genres[g].lead[i])) != VC_OK)
                return rc;
        for (size_t i = 0; i < genres[g].n_other; i++)
            if ((rc = check_template(genres[g].other[i])) != VC_OK)
                return rc;
    }
    for (size_t s = 0; s < COUNT(slots); s++)
        for (size_t i = 0; i < slots[s].n; i++)
            if ((rc = check_template(slots[s].values[i])) != VC_OK)
                return rc;
    return VC_OK;
}

static void append(sentence *out, const char *s, size_t len)
{
    if (len > sizeof out->s - 1 - out->len)
        len = sizeof out->s - 1 - out->len; /* the grammar never gets near */
    memcpy(out->s + out->len, s, len);
    out->len += len;
    out->s[out->len] = '\0';
}

/* Expands t[0..len) into out: {slot} and {a|b|c} picked by the PRNG. The
 * grammar has been checked, so every brace closes and every slot exists. */
static void expand(generator *g, const char *t, size_t len, int depth, sentence *out)
{
    const char *end = t + len;

    while (t < end) {
        const char *open = memchr(t, '{', (size_t)(end - t)), *close, *alt[16], *p;
        size_t n_alt = 0, k;
        int d = 0;

        if (!open || depth >= MAX_DEPTH) {
            append(out, t, (size_t)(end - t));
            return;
        }
        append(out, t, (size_t)(open - t));
        close = closing_brace(open);
        /* the top-level alternatives inside the braces */
        alt[n_alt++] = open + 1;
        for (p = open + 1; p < close; p++) {
            if (*p == '{')
                d++;
            else if (*p == '}')
                d--;
            else if (*p == '|' && d == 0 && n_alt < COUNT(alt))
                alt[n_alt++] = p + 1;
        }
        if (n_alt > 1) {
            k = prng_below(&g->rng, n_alt);
            p = k + 1 < n_alt ? alt[k + 1] - 1 : close;
            expand(g, alt[k], (size_t)(p - alt[k]), depth + 1, out);
        } else {
            const slot *s = find_slot(open + 1, (size_t)(close - open - 1));
            const char *v = s->values[prng_below(&g->rng, s->n)];
            expand(g, v, strlen(v), depth + 1, out);
        }
        t = close + 1;
    }
}

static int is_recent(const char *const *recent, size_t window, const char *t)
{
    for (size_t j = 0; j < window; j++)
        if (recent[j] == t)
            return 1;
    return 0;
}

/* A template of genre ge's role (0 lead, 1 other), none of the role's
 * last picks: the last RECENT_PICKS, or two thirds of a shorter list. */
static const char *pick_template(generator *g, size_t ge, int role)
{
    const genre *gr = &genres[ge];
    const char *const *lines = role ? gr->other : gr->lead;
    const char **recent = g->recent[ge][role];
    size_t n = role ? gr->n_other : gr->n_lead, window = n * 2 / 3, fresh = 0, k, i;

    if (window > RECENT_PICKS)
        window = RECENT_PICKS;
    for (i = 0; i < n; i++)
        fresh += !is_recent(recent, window, lines[i]);
    k = prng_below(&g->rng, fresh);
    for (i = 0; i < n; i++)
        if (!is_recent(recent, window, lines[i]) && k-- == 0)
            break;
    memmove(recent + 1, recent, (RECENT_PICKS - 1) * sizeof *recent);
    recent[0] = lines[i];
    return lines[i];
}

/* Puts one of the caller's words into s: before it, after it, or between
 * two of its words. Returns the number of words put in. */
static size_t sprinkle(generator *g, sentence *s)
{
    const char *word = g->words[prng_below(&g->rng, g->n_words)];
    sentence out = {.len = 0};
    const char *frame = NULL, *p;
    size_t count = 0, how = prng_below(&g->rng, 3);

    out.s[0] = '\0';
    if (how == 2) {
        /* between two words: after the k-th space */
        size_t spaces = 0, k, i;
        for (i = 0; i < s->len; i++)
            spaces += s->s[i] == ' ';
        if (spaces == 0)
            how = 1;
        else {
            k = prng_below(&g->rng, spaces);
            for (i = 0; i < s->len; i++)
                if (s->s[i] == ' ' && k-- == 0)
                    break;
            append(&out, s->s, i);
            append(&out, ", ", 2);
            append(&out, word, strlen(word));
            append(&out, ",", 1);
            append(&out, s->s + i, s->len - i);
            *s = out;
            return 1;
        }
    }
    if (how == 0)
        frame = prefix_frames[prng_below(&g->rng, COUNT(prefix_frames))];
    else
        frame = suffix_frames[prng_below(&g->rng, COUNT(suffix_frames))];
    if (how == 1)
        append(&out, s->s, s->len);
    for (p = frame; *p; p++) {
        if (*p == '@') {
            append(&out, word, strlen(word));
            count++;
        } else {
            append(&out, p, 1);
        }
    }
    if (how == 0)
        append(&out, s->s, s->len);
    *s = out;
    return count;
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static vc_status speaker_start(generator *g, const genre *gr, const char *avoid_voice,
                               speaker *sp)
{
    vc_synthesiser_config c = {.mode = VC_SPEAK_WAV, .volume = 100, .wav_dir = g->wav_dir->path};

    do
        sp->voice = voices[prng_below(&g->rng, COUNT(voices))];
    while (avoid_voice && strcmp(sp->voice, avoid_voice) == 0);
    sp->rate = prng_range(&g->rng, gr->rate_min, gr->rate_max);
    sp->pitch = prng_range(&g->rng, 30, 70);
    sp->level_dbfs = prng_uniform(&g->rng, gr->level_min, VC_TEST_BACKGROUND_LEVEL_MAX_DBFS);
    c.voice = sp->voice;
    c.rate = sp->rate;
    c.pitch = sp->pitch;
    return vc_synthesiser_new(&c, &sp->synth);
}

/* Broadcast audio is peak-limited: above the knee, a sample's magnitude
 * bends smoothly (slope 1 at the knee) towards the ceiling, never past it. */
static double limit(double x)
{
    double m = fabs(x);

    if (m <= LIMIT_KNEE)
        return x;
    m = LIMIT_KNEE + (LIMIT_CEILING - LIMIT_KNEE) * tanh((m - LIMIT_KNEE) /
                                                         (LIMIT_CEILING - LIMIT_KNEE));
    return x < 0 ? -m : m;
}

/* RMS in dBFS of pcm[0..n) times gain, through the limiter. */
static double limited_level(const int16_t *pcm, size_t n, double gain)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double y = limit(pcm[i] * gain);
        sum += y * y;
    }
    return 10.0 * log10(sum / (double)n / (32767.0 * 32767.0));
}

/* Speaks text as sp, trimmed of silence at its ends, at about sp's level
 * (within the genre's range), through the limiter, onto the track. */
static vc_status say(generator *g, const genre *gr, const speaker *sp, const char *text)
{
    vc_audio a = {0};
    const int16_t *voiced;
    size_t first, last, n;
    int peak = 0;
    double target, gain, level;
    vc_audio placed;

    /* espeak-ng 1.51 draws its noise from rand(): seeded per sentence, so
     * that it does not depend on who else used rand() */
    srand((unsigned)prng_next(&g->rng));
    if (vc_test_speak_with(sp->synth, text, &a) != 0)
        return vc_fail(VC_EAUDIO, "espeak-ng (voice %s) cannot speak \"%.60s\": %s", sp->voice,
                       text, vc_error_detail());
    for (size_t i = 0; i < a.n; i++)
        if (abs(a.samples[i]) > peak)
            peak = abs(a.samples[i]);
    for (first = 0; first < a.n && abs(a.samples[first]) <= peak * TRIM_FRACTION; first++)
        ;
    for (last = a.n; last > first && abs(a.samples[last - 1]) <= peak * TRIM_FRACTION; last--)
        ;
    if (last == first) {
        vc_audio_clear(&a);
        return VC_OK; /* nothing to hear: a sentence of punctuation */
    }
    voiced = a.samples + first;
    n = last - first;
    target = clamp(sp->level_dbfs + prng_uniform(&g->rng, -1.5, 1.5), gr->level_min,
                   VC_TEST_BACKGROUND_LEVEL_MAX_DBFS);
    /* the gain for the target, then once more for what the limiter took */
    gain = 1.0;
    level = limited_level(voiced, n, gain);
    gain *= pow(10.0, (target - level) / 20.0);
    level = limited_level(voiced, n, gain);
    gain *= pow(10.0, (target - level) / 20.0);
    level = limited_level(voiced, n, gain);

    for (size_t i = 0; i < n; i++)
        a.samples[i] = (int16_t)lrint(limit(voiced[i] * gain));
    placed.samples = a.samples;
    placed.n = n;
    if (g->script) {
        double at = (double)g->track.n / RATE;
        fprintf(g->script, "%02d:%04.1f %s %d %d %.1f | %s\n", (int)(at / 60), fmod(at, 60.0),
                sp->voice, sp->rate, sp->pitch, level, text);
    }
    vc_test_track_speech(&g->track, &placed);
    vc_audio_clear(&a);

    if (g->stats.sentences == 0 || level < g->stats.level_min_dbfs)
        g->stats.level_min_dbfs = level;
    if (g->stats.sentences == 0 || level > g->stats.level_max_dbfs)
        g->stats.level_max_dbfs = level;
    g->stats.sentences++;
    g->stats.speech_seconds += (double)n / RATE;
    return VC_OK;
}

static size_t pick_genre(generator *g, size_t previous)
{
    int total = 0, r;
    size_t i;

    for (i = 0; i < COUNT(genres); i++)
        total += i == previous ? 0 : genres[i].weight;
    r = (int)prng_below(&g->rng, (size_t)total);
    for (i = 0; i < COUNT(genres); i++) {
        if (i == previous)
            continue;
        if (r < genres[i].weight)
            break;
        r -= genres[i].weight;
    }
    return i;
}

/* One programme, until its length or the target (samples) is reached. */
static vc_status scene(generator *g, size_t ge, size_t target)
{
    const genre *gr = &genres[ge];
    speaker cast[2] = {{0}, {0}};
    size_t end = g->track.n + (size_t)prng_range(&g->rng, gr->scene_min, gr->scene_max) * RATE;
    int who = 0, dialogue = gr->other != NULL;
    vc_status rc;

    if (g->script)
        fprintf(g->script, "-- %s\n", gr->name);
    rc = speaker_start(g, gr, NULL, &cast[0]);
    if (rc == VC_OK && dialogue)
        rc = speaker_start(g, gr, cast[0].voice, &cast[1]);
    if (rc != VC_OK)
        goto out_free_cast;

    while (g->track.n < end && g->track.n < target) {
        sentence s = {.len = 0};
        const char *t = pick_template(g, ge, who);

        s.s[0] = '\0';
        if (prng_uniform(&g->rng, 0, 1) < OPENER_RATE) {
            const char *o = openers[prng_below(&g->rng, COUNT(openers))];
            append(&s, o, strlen(o));
            append(&s, " ", 1);
        }
        expand(g, t, strlen(t), 0, &s);
        if (g->n_words && prng_uniform(&g->rng, 0, 1) < gr->word_rate)
            g->stats.shopping_words += sprinkle(g, &s);
        if (gr->advert)
            g->stats.advert_sentences++;
        rc = say(g, gr, &cast[who], s.s);
        if (rc != VC_OK)
            goto out_free_cast;
        if (g->track.n >= end || g->track.n >= target)
            break;
        /* a dialogue changes speaker most of the time; a speaker's own
         * sentences are further apart than the turns */
        if (dialogue && prng_below(&g->rng, 10) < 7) {
            who = !who;
            vc_test_track_tone(&g->track, prng_range(&g->rng, 50, 400));
        } else {
            vc_test_track_tone(&g->track, prng_range(&g->rng, 250, 900));
        }
    }
out_free_cast:
    vc_synthesiser_free(cast[0].synth);
    vc_synthesiser_free(cast[1].synth);
    return rc;
}

vc_status vc_test_background_speech_script(double seconds, uint64_t seed,
                                           const char *const *shopping_words, size_t n_words,
                                           int16_t **pcm, size_t *n,
                                           vc_test_background_stats *stats, FILE *script)
{
    generator *g;
    size_t target, previous = COUNT(genres);
    vc_status rc;

    if (!pcm || !n || !(seconds > 0) || (n_words && !shopping_words))
        return vc_fail(VC_EINVAL, "vc_test_background_speech: NULL output, no words, or "
                                  "%g seconds",
                       seconds);
    *pcm = NULL;
    *n = 0;
    for (size_t i = 0; i < n_words; i++)
        if (!shopping_words[i] || !*shopping_words[i] || strlen(shopping_words[i]) > 200)
            return vc_fail(VC_EINVAL, "background speech: shopping word %zu is empty or over "
                                      "200 bytes",
                           i);
    if (seconds > VC_TEST_BACKGROUND_MAX_SECONDS)
        return vc_fail(VC_ETOOBIG, "background speech: %g s asked, at most %g s", seconds,
                       VC_TEST_BACKGROUND_MAX_SECONDS);
    rc = check_grammar();
    if (rc != VC_OK)
        return rc;

    g = calloc(1, sizeof *g);
    if (!g)
        return vc_fail(VC_ENOMEM, "out of memory");
    g->rng.state = seed;
    g->words = shopping_words;
    g->n_words = n_words;
    g->script = script;
    /* the room tone's own sequence, never 0 (which means its default) */
    g->track.noise = prng_next(&g->rng) | 1;
    g->wav_dir = vc_test_dir_new("vc-tv", "wav");
    if (!g->wav_dir) {
        rc = vc_fail(VC_EIO, "background speech: cannot make a temporary directory");
        goto out_free_generator;
    }
    rc = check_voices(g->wav_dir->path);
    if (rc != VC_OK)
        goto out_free_track;

    target = (size_t)ceil(seconds * RATE);
    while (g->track.n < target) {
        size_t ge = pick_genre(g, previous);
        /* adverts come in breaks of several */
        int spots = genres[ge].advert ? prng_range(&g->rng, 2, 4) : 1;

        for (int k = 0; k < spots && g->track.n < target; k++) {
            if (g->stats.scenes > 0) {
                int cut = prng_below(&g->rng, 2)
                              ? prng_range(&g->rng, 1000, VC_TEST_BACKGROUND_MAX_GAP_MS)
                              : prng_range(&g->rng, 300, 900);
                vc_test_track_tone(&g->track, cut);
            }
            rc = scene(g, ge, target);
            if (rc != VC_OK)
                goto out_free_track;
            g->stats.scenes++;
        }
        previous = ge;
    }

    g->stats.total_seconds = (double)g->track.n / RATE;
    if (stats)
        *stats = g->stats;
    *pcm = g->track.pcm;
    *n = g->track.n;
    g->track.pcm = NULL;
out_free_track:
    free(g->track.pcm);
    vc_test_dir_free(g->wav_dir);
out_free_generator:
    free(g);
    return rc;
}

vc_status vc_test_background_speech(double seconds, uint64_t seed,
                                    const char *const *shopping_words, size_t n_words,
                                    int16_t **pcm, size_t *n, vc_test_background_stats *stats)
{
    return vc_test_background_speech_script(seconds, seed, shopping_words, n_words, pcm, n, stats,
                                            NULL);
}
