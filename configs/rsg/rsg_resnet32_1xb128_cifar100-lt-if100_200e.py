# RSG (Wang et al., CVPR 2021), LDAM-DRW-RSG: ResNet-32 on CIFAR-100-LT (imbalance factor 100), 200 epochs, the official
# recipe (Jianf-Wang/RSG cifar_train.py --loss_type LDAM --train_rule DRW): the LDAM-DRW config of configs/ldam_drw
# with the RSG after the second stage (32 x 16 x 16; 15 centres, head = the 20 most frequent classes), generation from
# epoch 160 (epoch_thresh 159), the lr drops at epochs 159 and 179 (0-indexed), drop_last. python tools/train.py THIS
_base_ = '../ldam_drw/ldam-drw_resnet32_1xb128_cifar100-lt-if100_200e.py'
model = dict(type='RSGClassifier', rsg_after='stages.1',
             rsg=dict(type='RSG', in_channels=32, class_stats={{_base_.class_stats}}, epoch_thresh=159))
# the official lr: x(e+1)/5 for e < 5, x0.01 when e + 1 > 159, x1e-4 when e + 1 > 179 (one epoch before LDAM-DRW's)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.2, end_factor=1.0, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[159, 179], gamma=0.01, by_epoch=True, begin=0, end=200),
]
train_dataloader = dict(drop_last=True)
# T is unused before the threshold and the contrastive module after it (only matters under DDP)
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
