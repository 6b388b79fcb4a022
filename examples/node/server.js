const isNumber = require("is-number");
const answer = 42;
console.log(`hoist node demo: ${answer} is a number? ${isNumber(answer)}`);
