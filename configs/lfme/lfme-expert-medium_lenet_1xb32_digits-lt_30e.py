# LFME expert on the medium-shot classes of Digits-LT (CPU demo): ./lfme-expert-many_lenet_1xb32_digits-lt_30e.py on
# classes 3-5 (10 < n < 50: 35 / 23 / 15 images), labels renumbered 0..2. python tools/train.py THIS_CONFIG
_base_ = './lfme-expert-many_lenet_1xb32_digits-lt_30e.py'
train_dataloader = dict(dataset=dict(classes=[3, 4, 5]))
val_dataloader = dict(dataset=dict(classes=[3, 4, 5]))
test_dataloader = val_dataloader
