# TLC (Li et al., "Trustworthy Long-Tailed Classification", CVPR 2022), 3 evidential experts, ResNet-50 on
# ImageNet-LT: the official ImageNet-LT recipe (lblaoke/TLC configs/imagenet_lt.json, model/ResnetImagenet.py):
# stem and layer1-3 shared, one full-width layer4 per expert (a 2048-d feature each), cosine classifiers x 30,
# evidential fusion with eta 0.5; TLCLoss with reweight_factor 0.02 and DRW from epoch 80 (KL period T = 29,000);
# SGD nesterov lr 0.1 for batch 256, weight decay 2e-4, linear warm-up 5 epochs, x0.1 at 60 and x0.01 at 80,
# 100 epochs. The official run is one GPU x 256; here 8 GPUs x 32 with the loss's engagement statistics and the
# fusion taken over all ranks (sync=True), evaluation in 8 x 64 = the official 512. tools/dist_train.sh THIS_CONFIG 8
_base_ = ['../_base_/models/resnet50_lt.py', '../_base_/datasets/imagenet_lt.py', '../_base_/schedules/ride_100e.py',
          '../_base_/default_runtime_cls.py']
model = dict(
    # BatchNorm weights start at 1 in every block (the official init), not mmpretrain's zero-initialised residuals
    backbone=dict(type='RIDEResNet', num_experts=3, num_shared_stages=3, expert_widen_factor=1.0,
                  zero_init_residual=False),
    head=dict(type='MultiExpertClsHead', num_classes={{_base_.num_classes}}, in_channels=2048, num_experts=3,
              scale=30.0, fusion=dict(type='evidential', eta=0.5, normalize='batch', sync=True),
              loss=dict(_delete_=True, type='TLCLoss', class_stats={{_base_.class_stats}}, max_m=0.5, s=30.0,
                        reweight_factor=0.02, annealing=500, tau=0.54, additional_diversity_factor=-0.01,
                        drw=dict(start_epoch=80, beta=0.9999))))
custom_hooks = [dict(type='LossEpochHook')]  # tells the loss the epoch (KL annealing, DRW)
train_dataloader = dict(batch_size=32)
val_dataloader = dict(batch_size=64)
test_dataloader = dict(batch_size=64)
