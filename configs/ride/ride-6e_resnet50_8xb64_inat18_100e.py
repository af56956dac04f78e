# RIDE teacher for distillation, 6 experts, ResNet-50 on iNaturalist 2018, the official recipe (distill_arch of
# frank-xwang/RIDE-LongTailRecognition configs/config_iNaturalist_resnet50_distill_ride.json; the RIDE iNaturalist
# config with num_experts 6): lambda -0.2, f 0.015, DRW from epoch 80, SGD nesterov lr 0.2 for batch 512 (8 x 64),
# wd 2e-4, warm-up 5, x0.1 at 60 and 80, 100 epochs. tools/dist_train.sh THIS_CONFIG 8
_base_ = ['./_base_/ride_resnet50_inat18.py', '../_base_/schedules/ride_100e.py']
custom_hooks = [dict(type='LossEpochHook')]  # tells the loss the epoch (DRW)
model = dict(backbone=dict(num_experts=6), head=dict(num_experts=6))
train_dataloader = dict(batch_size=64)
optim_wrapper = dict(optimizer=dict(lr=0.2))
auto_scale_lr = dict(base_batch_size=512)
