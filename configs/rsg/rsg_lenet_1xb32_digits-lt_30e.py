# RSG (Wang et al., CVPR 2021), LDAM-DRW-RSG on Digits-LT (CPU demo): the LDAM-DRW LeNet-5 config of configs/ldam_drw
# (DRW from epoch 24 of 30) with the RSG after LeNet's first conv stage (conv, tanh, pooling: 6 x 14 x 14; 15 centres,
# head = the 2 most frequent digits), generation from epoch 24 (epoch_thresh 23, 80% of training as 160 of 200 on
# CIFAR), drop_last. python tools/train.py THIS_CONFIG
_base_ = '../ldam_drw/ldam-drw_lenet_1xb32_digits-lt_30e.py'
model = dict(type='RSGClassifier', rsg_after='features.2',
             rsg=dict(type='RSG', in_channels=6, class_stats={{_base_.class_stats}}, epoch_thresh=23))
train_dataloader = dict(drop_last=True)
