package textnorm

import (
	"strings"
	"sync"
)

// Snowball's English stemmer costs about a microsecond a word (it converts
// every candidate suffix to runes), which would make stemming most of the
// time of Analyze on English text. Stem therefore looks words up in a table
// of stems that Snowball itself computes once, at first use, for common
// English and customer-service words; other words go to Snowball. The table
// only saves time: Stem returns the same as Snowball for every word.
var (
	stemOnce  sync.Once
	stemTable map[string]string
)

func loadStemTable() {
	stemOnce.Do(func() {
		words := strings.Fields(stemVocabulary)
		t := make(map[string]string, len(words))
		for _, w := range words {
			t[w] = stemSnowball(w)
		}
		stemTable = t
	})
}

// stemVocabulary: words longer than two letters that are not Snowball stop
// words (those two classes are already cheap).
const stemVocabulary = `
able accept accepted access account accounts activate activated activation actually add added
additional address addresses admin advance advice after afternoon again agent agents agree
allow allowed almost alone already also always amount angry another answer answered answers
anyone anything anyway app apple application apply appointment approve approved area around
arrive arrived arrives ask asked asking assist assistance attempt automatic available away awful
back bad balance bank banking basic bill billed billing bills birthday blocked book booked
booking bought box branch break broken brother business busy buy buying bye calendar call
called caller calling calls came cancel canceled cancelled cancelling cancellation card cards
care case cash center central change changed changes changing channel charge charged charges
charging chat cheap check checked checking child children choose city claim claims clear
click close closed closing code color come comes coming company complain complaint complaints
complete completed computer confirm confirmation confirmed connect connected connection contact
contract correct cost costs could country coupon course cover coverage credit current customer
customers damage damaged data date daughter day days dead deal dear debit december decide
declined delay delayed delete deliver delivered delivering delivery department deposit details
detail device didn different difficult direct directly discount document documents done double
down download dropped due early easy else email emails emergency end ended english enough
enter entered error errors evening even ever every everything exactly example exchange excuse
expect expected expensive expire expired explain extra family fast father fault february fee
fees feel file fill find fine finish finished first fix fixed flight follow food forgot
forgotten form found free friday friend full future gave get gets getting give given gives
giving going gone good goodbye got great group guess guy half happen happened happening happy
hear heard hello help helpful helping here hey hold holiday home hope hospital hour hours house
how however human husband idea identity immediately important including information inside
install installation installed instead insurance interested internet invoice issue issued
issues item items january job join july june just keep kind know known language last late
later learn least leave left less letter level license life light like line link list listen
little live loan local location lock locked login long look looking lose lost lot loud love
low machine mail main make manage manager many march market may maybe mean means medical meet
meeting member membership message messages method middle might mind minute minutes mistake
mobile moment monday money month monthly months morning mother move much name names need
needed needs network never new next nice night nobody nothing notice november now number
numbers october offer office okay old online only open opened opening operator option options
order ordered ordering orders other outside owner package page paid parcel part party pass
password past pay paying payment payments pending people per percent period person personal
phone photo pick place plan plans please pleased point police policy possible post premium
press price prices print private probably problem problems process product products profile
promise provide provider purchase purchased put question questions quick quickly quite rate
rather reach read ready real really reason receipt receive received receiving recent record
refund refunded refunds register registered registration regular remember remove renew
renewal repair repeat replace replaced replacement reply report request requested requests
required reservation reserve reset resolve resolved rest return returned returning returns
right room round rule safe said sale same saturday save saw say saying says schedule school
screen search second security see seem seems seen sell send sending sent september serious
service services set setting settings share ship shipped shipping shop shopping short should
show sign signal simple since sir sister site size slow small smart sms social someone
something sometimes soon sorry sound speak speaking special speed spend start started state
status stay still stolen stop stopped store street subscription success suggest sunday support
sure system take taken talk talking tax team technical telephone tell thank thanks thing things
think thursday ticket tickets time times today together told tomorrow tonight too took total
track tracking transaction transfer transferred travel tried try trying tuesday turn type
understand unfortunately unit unlock until update updated upgrade urgent use used user username
using usually valid value verification verify verified very video visit voice wait waited
waiting wallet want wanted wants warranty was watch water way website wednesday week weekend
weekly weeks welcome went what when where which while wife will window wish with without woman
word work worked working works world worry would write wrong year years yes yesterday young
`
